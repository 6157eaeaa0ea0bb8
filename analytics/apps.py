from django.apps import AppConfig
from django.db.models.signals import post_delete


def _feature_deleted(sender, instance, **kwargs):
    # A feature's slices live inside its service's minute buckets (no row of
    # their own to cascade to), and its reports are gone: count them again.
    from .services import rebucket_service

    rebucket_service(service_id=instance.service_id)


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self):
        post_delete.connect(_feature_deleted, sender="reports.Feature", dispatch_uid="analytics-feature-deleted")
