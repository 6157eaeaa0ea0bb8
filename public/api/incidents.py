"""`GET /api/v1/incidents/` and `/api/v1/incidents/<id>/`."""

import django_filters
from django.db import connection
from django.db.models import BooleanField, Max, Q
from django.db.models.expressions import RawSQL
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response

from analytics.models import Incident
from analytics.serializers import IncidentSerializer
from common.api.caching import ConditionalGetMixin
from common.api.filters import StrictFilterSet
from common.api.pagination import IncidentCursorPagination
from official.selectors import incident_acknowledgement
from official.serializers import AcknowledgementOut, acknowledgement_data
from reports.regions import REGIONS


class IncidentFilter(StrictFilterSet):
    service = django_filters.CharFilter(field_name="service__slug")
    status = django_filters.ChoiceFilter(choices=Incident.Status.choices)
    start = django_filters.IsoDateTimeFilter(method="filter_start", label="still ongoing at or ended after start")
    end = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt", label="started before end")
    region = django_filters.ChoiceFilter(choices=[(r, r) for r in REGIONS], method="filter_region")

    class Meta:
        form = StrictFilterSet.Meta.form
        model = Incident
        fields = ["service", "status", "start", "end", "region"]

    def filter_start(self, queryset, name, value):
        # Overlap with [start, end): an incident that began earlier but lasted into the range counts.
        return queryset.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=value))

    def filter_region(self, queryset, name, value):
        # In the database, so the page's LIMIT applies: filtering in Python read every incident's scope.
        if connection.vendor == "postgresql":
            return queryset.filter(scope__regions__contains=[value])  # jsonb @>
        # SQLite has no JSON containment lookup: json_each over the scope's regions.
        table = Incident._meta.db_table
        member = RawSQL(
            f"EXISTS (SELECT 1 FROM json_each({table}.scope, '$.regions') WHERE json_each.value = %s)",
            [value],
            output_field=BooleanField(),
        )
        return queryset.filter(member)


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


class IncidentDetailOut(IncidentSerializer):
    official = AcknowledgementOut(allow_null=True, help_text="The official acknowledgement; null: no official source.")

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "official"]


class IncidentDetailView(ConditionalGetMixin, generics.RetrieveAPIView):
    serializer_class = IncidentSerializer
    queryset = Incident.objects.select_related("service").filter(service__active=True)

    @extend_schema(summary="One incident, with the official acknowledgement", responses=IncidentDetailOut)
    def get(self, request, *args, **kwargs):
        incident = self.get_object()
        data = {
            **IncidentSerializer(incident).data,
            "official": acknowledgement_data(incident_acknowledgement(incident)),
        }
        return Response(data)
