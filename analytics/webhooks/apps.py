from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "analytics.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
