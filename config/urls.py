from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from reports import views as web
from reports.api import views as api

api_v1 = [
    path("reports/", api.ReportCreateView.as_view(), name="api-report-create"),
    path("reports/bulk/", api.BulkReportView.as_view(), name="api-report-bulk"),
    path("services/", api.ServiceListView.as_view(), name="api-service-list"),
    path("services/<slug:slug>/", api.ServiceDetailView.as_view(), name="api-service-detail"),
    path("services/<slug:slug>/timeseries/", api.TimeseriesView.as_view(), name="api-timeseries"),
    path("services/<slug:slug>/breakdown/", api.BreakdownView.as_view(), name="api-breakdown"),
]

urlpatterns = [
    path("", web.home, name="home"),
    path("status/<slug:slug>/", web.service_page, name="service"),
    path("status/<slug:slug>/report/", web.report_form, name="report"),
    path("status/<slug:slug>/report/thanks/", web.report_thanks, name="report-thanks"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
