"""The public read side's pages: home, service status, incidents, embeds, chart data, feeds and badges."""

from django.urls import path

from . import badges, event_views, feeds, views

urlpatterns = [
    path("", views.home, name="home"),
    path("status/<slug:slug>/", views.service_page, name="service"),
    path("status/<slug:slug>/feed/", feeds.ServiceIncidentFeed(), name="service-feed"),
    path("status/<slug:slug>/badge.svg", badges.badge, name="service-badge"),
    path("status/<slug:slug>/chart/<str:name>.<str:fmt>", views.chart_data, name="chart-data"),
    path("status/<slug:slug>/status.json", views.status_json, name="status-json"),
    path("incidents/feed/", feeds.IncidentFeed(), name="incident-feed"),
    path("incidents/<int:pk>/", views.incident_page, name="incident"),
    path("incidents/<int:pk>/chart/timeline.<str:fmt>", views.incident_chart, name="incident-chart"),
    path("events/feed/", feeds.EventFeed(), name="event-feed"),
    path("events/<int:pk>/", event_views.event_page, name="event"),
    path("embed/status/<slug:slug>/", views.embed_status, name="embed-status"),
    path("embed/incidents/<int:pk>/", views.embed_incident, name="embed-incident"),
]
