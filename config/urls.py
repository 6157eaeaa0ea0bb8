from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from demo import official_page as demo_status_page
from public import badges
from public.api import events as events_api
from public.api import incidents as incidents_api
from public.api import official as official_api
from public.api import services as read_api
from reports import views as web
from reports.api import intake

api_v1 = [
    path("reports/", intake.ReportsView.as_view(), name="api-report-create"),
    path("reports/bulk/", intake.BulkReportView.as_view(), name="api-report-bulk"),
    path("services/", read_api.ServiceListView.as_view(), name="api-service-list"),
    path("services/<slug:slug>/", read_api.ServiceDetailView.as_view(), name="api-service-detail"),
    path("services/<slug:slug>/timeseries/", read_api.TimeseriesView.as_view(), name="api-timeseries"),
    path("services/<slug:slug>/breakdown/", read_api.BreakdownView.as_view(), name="api-breakdown"),
    path("services/<slug:slug>/status/", badges.ServiceStatusView.as_view(), name="api-service-status"),
    path("services/<slug:slug>/official/", official_api.OfficialHistoryView.as_view(), name="api-service-official"),
    path("webhooks/", include("webhooks.urls")),
    path("incidents/", incidents_api.IncidentListView.as_view(), name="api-incident-list"),
    path("incidents/<int:pk>/", incidents_api.IncidentDetailView.as_view(), name="api-incident-detail"),
    path("events/", events_api.EventListView.as_view(), name="api-event-list"),
    path("events/<int:pk>/", events_api.EventDetailView.as_view(), name="api-event-detail"),
]

urlpatterns = [
    path("status/<slug:slug>/report/", web.report_form, name="report"),
    path("status/<slug:slug>/report/thanks/", web.report_thanks, name="report-thanks"),
    # The journalists' pages, feeds, badges, embeds and chart data.
    path("", include("public.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its init script from a URL: no inline script, so CSP needs none.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The demo's official status page (404 unless TREMOR_DEMO_STATUS_PAGE, which ./tremor up sets).
    path("demo/status-page/api/v2/<str:name>", demo_status_page.status_page, name="demo-status-page"),
    path("admin/", admin.site.urls),
]

# A database outage is a 503 with Retry-After wherever it surfaces, never a 500.
handler500 = "common.middleware.server_error"
handler404 = "common.middleware.page_not_found"
