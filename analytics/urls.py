"""Journalists' pages: incidents, embeds, chart data and exports (the service page is `service`)."""

from django.urls import path

from . import views

urlpatterns = [
    path("status/<slug:slug>/chart/<str:name>.<str:fmt>", views.chart_data, name="chart-data"),
    path("status/<slug:slug>/status.json", views.status_json, name="status-json"),
    path("incidents/<int:pk>/", views.incident_page, name="incident"),
    path("incidents/<int:pk>/chart/timeline.<str:fmt>", views.incident_chart, name="incident-chart"),
    path("embed/status/<slug:slug>/", views.embed_status, name="embed-status"),
    path("embed/incidents/<int:pk>/", views.embed_incident, name="embed-incident"),
]
