"""Signal receivers of the analytics app (connected in AnalyticsConfig.ready)."""

from .bucketing import rebucket_service


def on_feature_deleted(sender, instance, **kwargs) -> None:
    # A feature's slices live inside its service's minute buckets (no row of
    # their own to cascade to), and its reports are gone: count them again.
    rebucket_service(service_id=instance.service_id)
