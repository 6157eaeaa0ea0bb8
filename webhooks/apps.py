from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        # Receivers import models, which only exist once the app registry is ready.
        from analytics.events import incident_event, widespread_event
        from official.events import official_status_changed

        from .receivers import on_incident_event, on_official_change, on_widespread_event

        incident_event.connect(on_incident_event, dispatch_uid="webhooks-incident-event")
        widespread_event.connect(on_widespread_event, dispatch_uid="webhooks-widespread-event")
        official_status_changed.connect(on_official_change, dispatch_uid="webhooks-official-change")
