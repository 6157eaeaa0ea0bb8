"""Request and response shapes of the intake API (`POST /api/v1/reports/`, `.../bulk/`).

Intake is validated by `reports.validation` (shared with the form, bulk and
import); the input serializers here document the body for OpenAPI.
"""

from rest_framework import serializers

from reports.regions import REGIONS


class ReportIn(serializers.Serializer):
    # Documentation only (reports.validation decides), as tight as the validator: what the
    # schema calls valid is refused only for what it cannot know (which services, features
    # and countries exist).
    service = serializers.SlugField(max_length=64, help_text="Service slug, e.g. `tesla`.")
    feature = serializers.SlugField(max_length=64, help_text="Feature slug of that service, or `other`.")
    code = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$",
        help_text="Error code shown by the app (`503`, `ERR_TIMEOUT`) or `none`; a number is taken as its digits.",
    )
    country = serializers.RegexField(r"^[A-Za-z]{2}$", help_text="ISO 3166-1 alpha-2 (either case).")
    comment = serializers.RegexField(
        r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$",  # no control characters but tab and newlines
        required=False,
        allow_blank=True,
        max_length=280,
    )


class BulkReportIn(ReportIn):
    observed_at = serializers.DateTimeField(
        required=False, help_text="When it was seen (UTC ISO 8601): at most 1 minute ahead, at most 7 days old."
    )


class BulkIn(serializers.Serializer):
    reports = serializers.ListField(child=BulkReportIn(), min_length=1, max_length=1000)


class ReportOut(serializers.Serializer):
    id = serializers.IntegerField(
        allow_null=True,
        help_text="null when not counted (duplicate), or while the report waits in the intake log (`log_entry`).",
    )
    log_entry = serializers.CharField(
        allow_null=True,
        help_text="The durable intake log's entry id when the report was acknowledged from the log"
        " (stored into the database within about a second); null when stored directly.",
    )
    service = serializers.CharField()
    feature = serializers.CharField()
    code = serializers.CharField()
    country = serializers.CharField()
    region = serializers.ChoiceField(choices=REGIONS)
    received_at = serializers.DateTimeField()
    observed_at = serializers.DateTimeField()
    counted = serializers.BooleanField()


class BulkOut(serializers.Serializer):
    created = serializers.IntegerField()
    first_id = serializers.IntegerField(allow_null=True)


class ErrorOut(serializers.Serializer):
    detail = serializers.CharField()
