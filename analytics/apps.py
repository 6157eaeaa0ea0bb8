from django.apps import AppConfig
from django.db.models.signals import post_delete


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self):
        # Receivers import models, which only exist once the app registry is ready.
        from reports.signals import reports_deleted

        from .receivers import on_feature_deleted, on_reports_deleted

        post_delete.connect(on_feature_deleted, sender="reports.Feature", dispatch_uid="analytics-feature-deleted")
        reports_deleted.connect(on_reports_deleted, dispatch_uid="analytics-reports-deleted")
