"""Read API v1: services, their time series and breakdowns. Thin views over public.selectors and analytics.selectors."""

from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors as counts
from analytics.serializers import IncidentSerializer
from common.api.caching import ConditionalGetMixin
from common.api.pagination import ServiceLimitOffsetPagination
from official.selectors import service_official
from official.serializers import service_official_data
from public.selectors import current_status, services_with_counts
from reports.models import Service

from . import serializers as s

# The longest range one anonymous call may read: a month, as the 30-day pages. Without it a
# `start` years back made one call read every bucket ever stored (1.2 million rows at 1h).
MAX_RANGE = timedelta(days=31)


def _query(serializer_class, request) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = dict(query.validated_data)
    data.setdefault("end", timezone.now())
    data.setdefault("start", data["end"] - timedelta(hours=24))
    if data["end"] - data["start"] > MAX_RANGE:
        raise ValidationError({"start": [f"At most {MAX_RANGE.days} days before end: split longer ranges."]})
    return data


class ServiceListView(ConditionalGetMixin, APIView):
    SORTS = {"-reports_last_hour", "-reports_last_24h", "name"}

    @extend_schema(
        parameters=[
            OpenApiParameter("ordering", enum=sorted(SORTS), description="Default: most reports in the last hour."),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses=inline_serializer(
            "PaginatedServiceList",
            {
                "count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": s.ServiceOut(many=True),
            },
        ),
        summary="Services with recent report counts (paginated)",
        operation_id="v1_services_list",
    )
    def get(self, request):
        ordering = request.query_params.get("ordering", "-reports_last_hour")
        if ordering not in self.SORTS:
            raise ValidationError({"ordering": [f"One of {', '.join(sorted(self.SORTS))}."]})
        rows = services_with_counts()
        if ordering == "name":
            rows.sort(key=lambda row: row["service"].name)
        elif ordering == "-reports_last_24h":
            rows.sort(key=lambda row: (-row["reports_last_24h"], row["service"].name))
        paginator = ServiceLimitOffsetPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response([_service_out(row) for row in page])


def _service_out(row: dict) -> dict:
    service = row["service"]
    return {
        "slug": service.slug,
        "name": service.name,
        "homepage_url": service.homepage_url,
        "reports_last_hour": row["reports_last_hour"],
        "reports_last_24h": row["reports_last_24h"],
    }


class ServiceDetailView(APIView):
    @extend_schema(responses=s.ServiceDetailOut, summary="One service, its features and counts")
    def get(self, request, slug: str):
        service = get_object_or_404(Service, slug=slug, active=True)
        (row,) = services_with_counts(services=[service])
        features = [{"slug": f.slug, "name": f.name} for f in service.features.all()]
        level, incident = current_status(service_id=service.id)
        return Response(
            {
                **_service_out(row),
                "features": features,
                "level": level,
                "ongoing_incident": IncidentSerializer(incident).data if incident else None,
                "official": service_official_data(service_official(service.id)),
            }
        )


class TimeseriesView(APIView):
    @extend_schema(parameters=[s.TimeseriesQuery], responses=s.TimeseriesOut, summary="Reports over time, zero-filled")
    def get(self, request, slug: str):
        service = get_object_or_404(Service, slug=slug, active=True)
        q = _query(s.TimeseriesQuery, request)
        minutes = (q["end"] - q["start"]).total_seconds() / 60
        if minutes / {"1m": 1, "5m": 5, "15m": 15, "1h": 60}[q["interval"]] > 20_000:
            raise ValidationError({"interval": ["Too many buckets for this range: choose a coarser interval."]})
        filters = {k: q[k] for k in ("region", "country", "code", "feature") if k in q}
        series = counts.timeseries(
            service_id=service.id, start=q["start"], end=q["end"], interval=q["interval"], filters=filters
        )
        return Response(
            {
                "service": service.slug,
                "interval": q["interval"],
                "start": q["start"],
                "end": q["end"],
                "buckets": [{"t": t.isoformat().replace("+00:00", "Z"), "count": int(n)} for t, n in series.items()],
            }
        )


class BreakdownView(APIView):
    @extend_schema(parameters=[s.BreakdownQuery], responses=s.BreakdownOut, summary="Counts and shares per value")
    def get(self, request, slug: str):
        service = get_object_or_404(Service, slug=slug, active=True)
        q = _query(s.BreakdownQuery, request)
        values = counts.breakdown(service_id=service.id, start=q["start"], end=q["end"], dimension=q["dimension"])
        return Response(
            {
                "service": service.slug,
                "dimension": q["dimension"],
                "start": q["start"],
                "end": q["end"],
                "total": sum(v["count"] for v in values),
                "values": values,
            }
        )
