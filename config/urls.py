from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from analytics import api as incidents_api
from analytics import badges, feeds
from reports import views as web
from reports.api import lists
from reports.api import views as api

api_v1 = [
    path("reports/", lists.ReportsView.as_view(), name="api-report-create"),
    path("reports/bulk/", api.BulkReportView.as_view(), name="api-report-bulk"),
    path("services/", api.ServiceListView.as_view(), name="api-service-list"),
    path("services/<slug:slug>/", api.ServiceDetailView.as_view(), name="api-service-detail"),
    path("services/<slug:slug>/timeseries/", api.TimeseriesView.as_view(), name="api-timeseries"),
    path("services/<slug:slug>/breakdown/", api.BreakdownView.as_view(), name="api-breakdown"),
    path("services/<slug:slug>/status/", badges.ServiceStatusView.as_view(), name="api-service-status"),
    path("webhooks/", include("analytics.webhooks.urls")),
    path("incidents/", incidents_api.IncidentListView.as_view(), name="api-incident-list"),
    path("incidents/<int:pk>/", incidents_api.IncidentDetailView.as_view(), name="api-incident-detail"),
]

urlpatterns = [
    path("", web.home, name="home"),
    path("status/<slug:slug>/", web.service_page, name="service"),
    path("status/<slug:slug>/report/", web.report_form, name="report"),
    path("status/<slug:slug>/report/thanks/", web.report_thanks, name="report-thanks"),
    path("status/<slug:slug>/feed/", feeds.ServiceIncidentFeed(), name="service-feed"),
    path("status/<slug:slug>/badge.svg", badges.badge, name="service-badge"),
    path("incidents/feed/", feeds.IncidentFeed(), name="incident-feed"),
    path("", include("analytics.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its init script from a URL: no inline script, so CSP needs none.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

# A database outage is a 503 with Retry-After wherever it surfaces, never a 500.
handler500 = "reports.middleware.server_error"
handler404 = "reports.middleware.page_not_found"
