"""Request and response shapes of the intake API (`POST /api/v1/reports/`, `.../bulk/`).

Intake is validated by `reports.validation` (shared with the form, bulk and
import); the input serializers here document the body for OpenAPI.
"""

from rest_framework import serializers

from reports.regions import REGIONS


class ReportIn(serializers.Serializer):
    service = serializers.SlugField(help_text="Service slug, e.g. `tesla`.")
    feature = serializers.SlugField(help_text="Feature slug of that service, or `other`.")
    code = serializers.CharField(help_text="Error code shown by the app (`503`, `ERR_TIMEOUT`) or `none`.")
    country = serializers.CharField(min_length=2, max_length=2, help_text="ISO 3166-1 alpha-2.")
    comment = serializers.CharField(required=False, max_length=280)


class BulkReportIn(ReportIn):
    observed_at = serializers.DateTimeField(
        required=False, help_text="When it was seen (UTC ISO 8601): at most 1 minute ahead, at most 7 days old."
    )


class BulkIn(serializers.Serializer):
    reports = BulkReportIn(many=True, max_length=1000)


class ReportOut(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="null when not counted (duplicate).")
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
