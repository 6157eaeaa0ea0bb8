"""Intake API v1: `POST /api/v1/reports/` (and its `GET` list of raw reports), `POST /api/v1/reports/bulk/`.

Thin views: validate with `reports.validation`, throttle, claim and append to
the intake log in one Redis call (reports.intake_log), store with `reports.services`.
"""

import django_filters
from django.conf import settings
from django.db.models import Max
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.caching import ConditionalGetMixin
from common.api.filters import StrictFilterSet
from common.api.pagination import ReportCursorPagination
from common.metrics import report_outcome
from reports import idempotency, intake_log
from reports.dedupe import claim_of
from reports.fingerprint import client_address, reporter_fingerprint
from reports.models import Report
from reports.regions import REGIONS
from reports.services import SubmitResult, report_log_payload, report_submit, reports_bulk_insert
from reports.validation import ReportInput, validate_report

from . import serializers as s
from .throttles import BulkIntakeThrottle, ReportSubmitThrottle

UNCONFIRMED = (
    "The intake log did not confirm this report in time; it may have been stored. Sending it again is safe: "
    "a report is never counted twice (the resend is answered counted: false if the first was stored)."
)


def _report_out(result: SubmitResult, item: ReportInput) -> dict:
    report = result.report
    return {
        "id": report.pk if result.counted else None,
        "log_entry": result.log_entry or None,
        "service": item.service_slug,
        "feature": item.feature_slug,
        "code": report.code,
        "country": report.country,
        "region": report.region,
        "received_at": report.received_at,
        "observed_at": report.observed_at,
        "counted": result.counted,
    }


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
        claim, payload, now = None, "", timezone.now()
        if not errors:
            claim = claim_of(service_id=item.service_id, fingerprint=fingerprint)
            payload = report_log_payload(item=item, source=Report.Source.API, fingerprint=fingerprint, now=now)
        try:
            admission = self._admit(request, throttle, claim=claim, entry=payload)
            if errors:
                raise ValidationError({field: [message] for field, message in errors.items()})
            result = report_submit(
                item=item, source=Report.Source.API, fingerprint=fingerprint, claimed=admission.claimed,
                log_entry=admission.entry, now=now,
            )  # fmt: skip
        except intake_log.Unconfirmed:
            report_outcome(source=Report.Source.API, outcome="unconfirmed")
            # Not a 201 (Redis did not confirm it), not a 500, and not stored another way (it may be in the
            # log already): say so. A resend is safe: the first one, if it was logged, makes it a duplicate.
            headers = {"Retry-After": intake_log.RETRY_AFTER_UNCONFIRMED}
            return Response({"detail": UNCONFIRMED}, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=headers)
        return Response(
            _report_out(result, item), status=status.HTTP_201_CREATED if result.counted else status.HTTP_200_OK
        )

    def _admit(self, request, throttle, *, claim, entry: str = ""):
        """Throttle (429 with Retry-After when over the limit), claim and log in one Redis call."""
        admission = throttle.allow_and_claim(request, self, claim=claim, entry=entry)
        if not admission.allowed:
            self.throttled(request, throttle.wait())
        return admission


class BulkReportView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [BulkIntakeThrottle]

    @extend_schema(
        request=s.BulkIn,
        parameters=[
            OpenApiParameter(
                idempotency.HEADER,
                location=OpenApiParameter.HEADER,
                required=False,
                pattern=idempotency.KEY_RE.pattern,
                description="Optional: a retry with the same key within 24 h gets the first answer and stores nothing.",
            )
        ],
        responses={
            201: s.BulkOut,
            422: OpenApiResponse(s.ErrorOut, "The Idempotency-Key was already used with a different body."),
        },
        summary="Push up to 1,000 reports (partners)",
    )
    def post(self, request):
        body = request.data
        now = timezone.now()
        key = request.headers.get(idempotency.HEADER)
        if key is not None:
            if problem := idempotency.key_problem(key):
                raise ValidationError({idempotency.HEADER: [problem]})
            digest = idempotency.body_digest(body)
            try:
                first = idempotency.replayed(token_id=request.auth.pk, key=key, digest=digest, now=now)
            except idempotency.KeyReused:
                return self._key_reused()
            if first is not None:
                return Response(first, status=status.HTTP_201_CREATED, headers={"Idempotent-Replayed": "true"})
        items = body.get("reports") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ValidationError({"reports": ["Must be a list of report objects."]})
        if not items:
            raise ValidationError({"reports": ["Must not be empty."]})
        limit = settings.TREMOR_BULK_MAX_ITEMS
        if len(items) > limit:
            raise ValidationError({"reports": [f"At most {limit} reports per call (got {len(items)})."]})
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

        def store() -> dict:
            ids = reports_bulk_insert(items=valid, source=Report.Source.API, now=now)
            return {"created": len(ids), "first_id": ids[0] if ids else None}

        if key is None:
            return Response(store(), status=status.HTTP_201_CREATED)
        try:
            answer, again = idempotency.store_once(
                token_id=request.auth.pk, key=key, digest=digest, now=now, store=store
            )
        except idempotency.KeyReused:
            return self._key_reused()
        headers = {"Idempotent-Replayed": "true"} if again else {}
        return Response(answer, status=status.HTTP_201_CREATED, headers=headers)

    def _key_reused(self) -> Response:
        return Response(
            {"detail": f"This {idempotency.HEADER} was already used with a different body; nothing was stored."},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )


class ReportListOut(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    feature = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Report
        # Not the fingerprint (it links a reporter's reports) nor the free-text comment.
        fields = ["id", "service", "feature", "code", "country", "region", "observed_at", "received_at", "source"]


class ReportFilter(StrictFilterSet):
    service = django_filters.CharFilter(field_name="service__slug")
    feature = django_filters.CharFilter(field_name="feature__slug")
    region = django_filters.ChoiceFilter(choices=[(r, r) for r in REGIONS])
    country = django_filters.CharFilter(field_name="country", lookup_expr="iexact")
    code = django_filters.CharFilter()
    start = django_filters.IsoDateTimeFilter(field_name="observed_at", lookup_expr="gte", label="observed_at >= start")
    end = django_filters.IsoDateTimeFilter(field_name="observed_at", lookup_expr="lt", label="observed_at < end")
    received_after = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gt")

    class Meta:
        form = StrictFilterSet.Meta.form
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
