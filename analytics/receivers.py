"""Signal receivers of the analytics app (connected in AnalyticsConfig.ready)."""

from .bucketing import rebucket_service, rebucket_span


def on_feature_deleted(sender, instance, **kwargs) -> None:
    # A feature's slices live inside its service's minute buckets (no row of
    # their own to cascade to), and its reports are gone: count them again.
    rebucket_service(service_id=instance.service_id)


def on_reports_deleted(sender, spans: dict, **kwargs) -> None:
    # Deleted spam must leave the charts and detection now, not at the next rebuild.
    for service_id, (first, last) in spans.items():
        rebucket_span(service_id=service_id, first=first, last=last)
