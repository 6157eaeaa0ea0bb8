"""`GET /api/v1/incidents/` and `/api/v1/incidents/<id>/`."""

import django_filters
from django.db.models import Max, Q
from drf_spectacular.utils import extend_schema
from rest_framework import generics

from analytics.models import Incident
from analytics.serializers import IncidentSerializer
from common.api.caching import ConditionalGetMixin
from common.api.pagination import IncidentCursorPagination
from reports.regions import REGIONS


class IncidentFilter(django_filters.FilterSet):
    service = django_filters.CharFilter(field_name="service__slug")
    status = django_filters.ChoiceFilter(choices=Incident.Status.choices)
    start = django_filters.IsoDateTimeFilter(method="filter_start", label="still ongoing at or ended after start")
    end = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt", label="started before end")
    region = django_filters.ChoiceFilter(choices=[(r, r) for r in REGIONS], method="filter_region")

    class Meta:
        model = Incident
        fields = ["service", "status", "start", "end", "region"]

    def filter_start(self, queryset, name, value):
        # Overlap with [start, end): an incident that began earlier but lasted into the range counts.
        return queryset.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=value))

    def filter_region(self, queryset, name, value):
        # JSON containment is not portable to SQLite; scopes hold five regions at most.
        ids = [pk for pk, scope in queryset.values_list("id", "scope") if value in (scope or {}).get("regions", [])]
        return queryset.filter(id__in=ids)


class IncidentListView(ConditionalGetMixin, generics.ListAPIView):
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilter
    pagination_class = IncidentCursorPagination
    queryset = Incident.objects.select_related("service").filter(service__active=True)

    def get_last_modified(self, request, *args, **kwargs):
        return self.filter_queryset(self.get_queryset()).aggregate(at=Max("updated_at"))["at"]

    @extend_schema(summary="Incidents, newest first (cursor-paginated)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class IncidentDetailView(ConditionalGetMixin, generics.RetrieveAPIView):
    serializer_class = IncidentSerializer
    queryset = Incident.objects.select_related("service").filter(service__active=True)

    @extend_schema(summary="One incident")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
