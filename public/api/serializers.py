"""Request and response shapes of the read API (services, time series, breakdowns)."""

from rest_framework import serializers

from analytics.core.levels import LEVEL_NAMES
from analytics.core.series import INTERVALS
from official.serializers import ServiceOfficialOut
from reports.regions import REGIONS


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
    level = serializers.ChoiceField(choices=list(LEVEL_NAMES.values()))
    ongoing_incident = serializers.JSONField(
        allow_null=True, help_text="The ongoing incident (as in /api/v1/incidents/)."
    )
    official = ServiceOfficialOut(
        allow_null=True, help_text="What the service's own status page says; null: no source."
    )


class RangeQuery(serializers.Serializer):
    start = serializers.DateTimeField(
        required=False, help_text="Default: 24 hours before `end`; at most 31 days before `end`."
    )
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
