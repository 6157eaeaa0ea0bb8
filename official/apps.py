from django.apps import AppConfig


class OfficialConfig(AppConfig):
    name = "official"
    verbose_name = "Official status"

    def ready(self):
        # The services import (reports) announces each row; official reads its official_* columns.
        from reports.signals import service_imported

        from .receivers import on_service_imported

        service_imported.connect(on_service_imported, dispatch_uid="official-service-imported")
