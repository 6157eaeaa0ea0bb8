from django.urls import path

from . import api

urlpatterns = [
    path("", api.SubscriptionListView.as_view(), name="api-webhook-list"),
    path("<int:pk>/", api.SubscriptionDetailView.as_view(), name="api-webhook-detail"),
    path("<int:pk>/rotate-secret/", api.RotateSecretView.as_view(), name="api-webhook-rotate-secret"),
    path("<int:pk>/deliveries/", api.DeliveryLogView.as_view(), name="api-webhook-deliveries"),
]
