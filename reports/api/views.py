"""REST API v1: thin views that parse, call one service or selector, and shape output."""

from datetime import timedelta

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors as counts
from analytics.selectors import current_status
from analytics.serializers import IncidentSerializer
from reports.dedupe import claim_of
from reports.fingerprint import client_address, reporter_fingerprint
from reports.models import Report, Service
from reports.selectors import services_with_counts
from reports.services import SubmitResult, report_submit, reports_bulk_insert
from reports.validation import ReportInput, validate_report

from . import serializers as s
from .caching import ConditionalGetMixin
from .pagination import ServiceLimitOffsetPagination
from .throttles import BulkIntakeThrottle, ReportSubmitThrottle


def _report_out(result: SubmitResult, item: ReportInput) -> dict:
    report = result.report
    return {
        "id": report.pk if result.counted else None,
        "service": item.service_slug,
        "feature": item.feature_slug,
        "code": report.code,
        "country": report.country,
        "region": report.region,
        "received_at": report.received_at,
        "observed_at": report.observed_at,
        "counted": result.counted,
    }


def _query(serializer_class, request) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = dict(query.validated_data)
    data.setdefault("end", timezone.now())
    data.setdefault("start", data["end"] - timedelta(hours=24))
    return data


class ReportCreateView(APIView):
    # Throttled in post(): the throttle's Redis call also claims the dedupe key.
    throttle_classes = []

    @extend_schema(
        request=s.ReportIn,
        responses={
            201: s.ReportOut,
            200: OpenApiResponse(s.ReportOut, "Duplicate within the dedupe window: not counted."),
        },
        summary="Report a problem",
    )
    def post(self, request):
        throttle = ReportSubmitThrottle()
        try:
            item, errors = validate_report(request.data, now=timezone.now())
        except ParseError:
            self._admit(request, throttle, claim=None)  # a malformed flood is throttled too
            raise
        fingerprint = reporter_fingerprint(
            address=client_address(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
        )
        claim = None if errors else claim_of(service_id=item.service_id, fingerprint=fingerprint)
        claimed = self._admit(request, throttle, claim=claim)
        if errors:
            raise ValidationError({field: [message] for field, message in errors.items()})
        result = report_submit(item=item, source=Report.Source.API, fingerprint=fingerprint, claimed=claimed)
        return Response(
            _report_out(result, item), status=status.HTTP_201_CREATED if result.counted else status.HTTP_200_OK
        )

    def _admit(self, request, throttle, *, claim) -> bool | None:
        """Throttle (429 with Retry-After when over the limit) and claim in one Redis call."""
        allowed, claimed = throttle.allow_and_claim(request, self, claim=claim)
        if not allowed:
            self.throttled(request, throttle.wait())
        return claimed


class BulkReportView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [BulkIntakeThrottle]

    @extend_schema(request=s.BulkIn, responses={201: s.BulkOut}, summary="Push up to 1,000 reports (partners)")
    def post(self, request):
        body = request.data
        items = body.get("reports") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ValidationError({"reports": ["Must be a list of report objects."]})
        if not items:
            raise ValidationError({"reports": ["Must not be empty."]})
        limit = settings.TREMOR_BULK_MAX_ITEMS
        if len(items) > limit:
            raise ValidationError({"reports": [f"At most {limit} reports per call (got {len(items)})."]})
        now = timezone.now()
        valid, bad = [], []
        for index, raw in enumerate(items):
            item, errors = validate_report(raw, now=now, allow_observed_at=True)
            if errors:
                bad.append({"index": index, "errors": {f: [m] for f, m in errors.items()}})
            else:
                valid.append(item)
        if bad:
            # All or nothing: a partner fixes the batch and resends it whole.
            return Response(
                {"detail": f"{len(bad)} of {len(items)} reports are invalid; none was stored.", "items": bad},
                status=status.HTTP_400_BAD_REQUEST,
            )
        ids = reports_bulk_insert(items=valid, source=Report.Source.API, now=now)
        return Response({"created": len(ids), "first_id": ids[0] if ids else None}, status=status.HTTP_201_CREATED)


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
