"""`GET /api/v1/reports/`: the raw reports, cursor-paginated (never fingerprints or comments)."""

import django_filters
from django.db.models import Max
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers

from reports.models import Report
from reports.regions import REGIONS

from .caching import ConditionalGetMixin
from .pagination import ReportCursorPagination
from .views import ReportCreateView


class ReportListOut(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    feature = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Report
        # Not the fingerprint (it links a reporter's reports) nor the free-text comment.
        fields = ["id", "service", "feature", "code", "country", "region", "observed_at", "received_at", "source"]


class ReportFilter(django_filters.FilterSet):
    service = django_filters.CharFilter(field_name="service__slug")
    feature = django_filters.CharFilter(field_name="feature__slug")
    region = django_filters.ChoiceFilter(choices=[(r, r) for r in REGIONS])
    country = django_filters.CharFilter(field_name="country", lookup_expr="iexact")
    code = django_filters.CharFilter()
    start = django_filters.IsoDateTimeFilter(field_name="observed_at", lookup_expr="gte", label="observed_at >= start")
    end = django_filters.IsoDateTimeFilter(field_name="observed_at", lookup_expr="lt", label="observed_at < end")
    received_after = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gt")

    class Meta:
        model = Report
        fields = ["service", "feature", "region", "country", "code", "start", "end", "received_after"]


class ReportsView(ConditionalGetMixin, generics.ListAPIView, ReportCreateView):
    """POST: report a problem (ReportCreateView); GET: list reports."""

    serializer_class = ReportListOut
    filterset_class = ReportFilter
    pagination_class = ReportCursorPagination
    queryset = Report.objects.select_related("service", "feature").filter(service__active=True)

    def get_throttles(self):
        # The submit throttle (10/min per client) is for intake only; reads use the default read limits.
        if self.request.method == "POST":
            return super().get_throttles()
        return [throttle() for throttle in self.settings.DEFAULT_THROTTLE_CLASSES]

    def get_last_modified(self, request, *args, **kwargs):
        # Reports are never edited: the newest arrival in the filtered set dates the whole list.
        return self.filter_queryset(self.get_queryset()).aggregate(at=Max("received_at"))["at"]

    @extend_schema(summary="List reports (newest observed first, cursor-paginated)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
