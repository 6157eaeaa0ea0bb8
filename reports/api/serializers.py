"""Request and response shapes of API v1.

Intake is validated by `reports.validation` (shared with the form, bulk and
import); the input serializers here document the body for OpenAPI.
"""

from rest_framework import serializers

from analytics.series import INTERVALS
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


class FeatureOut(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class ServiceOut(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    homepage_url = serializers.CharField()
    reports_last_hour = serializers.IntegerField()
    reports_last_24h = serializers.IntegerField()


class ServiceDetailOut(ServiceOut):
    features = FeatureOut(many=True)
    level = serializers.ChoiceField(choices=["normal", "possible", "problems"])
    ongoing_incident = serializers.JSONField(
        allow_null=True, help_text="The ongoing incident (as in /api/v1/incidents/)."
    )


class RangeQuery(serializers.Serializer):
    start = serializers.DateTimeField(required=False, help_text="Default: 24 hours before `end`.")
    end = serializers.DateTimeField(required=False, help_text="Default: now.")

    def validate(self, attrs):
        if "start" in attrs and "end" in attrs and attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"start": "Must be before end."})
        return attrs


class TimeseriesQuery(RangeQuery):
    interval = serializers.ChoiceField(choices=list(INTERVALS), default="1m")
    region = serializers.ChoiceField(choices=REGIONS, required=False)
    country = serializers.CharField(required=False, min_length=2, max_length=2)
    code = serializers.CharField(required=False, max_length=32)
    feature = serializers.SlugField(required=False)


class BreakdownQuery(RangeQuery):
    dimension = serializers.ChoiceField(choices=["region", "country", "code", "feature"])


class BucketOut(serializers.Serializer):
    t = serializers.DateTimeField()
    count = serializers.IntegerField()


class TimeseriesOut(serializers.Serializer):
    service = serializers.CharField()
    interval = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    buckets = BucketOut(many=True)


class BreakdownItem(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()
    share = serializers.FloatField()


class BreakdownOut(serializers.Serializer):
    service = serializers.CharField()
    dimension = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    total = serializers.IntegerField()
    values = BreakdownItem(many=True)
