"""The incident and widespread event representations: the API, replay output, feeds and webhooks use these."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .core.grouping import expected_by_chance, provider_label
from .models import EventMember, Incident, Level, WidespreadEvent


class IncidentSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    level = serializers.SerializerMethodField()
    scope = serializers.JSONField()
    scope_shares = serializers.JSONField()
    phases = serializers.JSONField()

    class Meta:
        model = Incident
        fields = [
            "id", "service", "status", "level", "started_at", "detected_at", "peak_at", "ended_at",
            "peak_reports_per_minute", "baseline_at_peak", "excess_reports", "scope", "scope_shares",
            "is_regional", "phases",
        ]  # fmt: skip

    def get_level(self, incident: Incident) -> str:
        return Level(incident.level).label


class EventMemberSerializer(serializers.ModelSerializer):
    service = serializers.CharField(source="incident.service.slug")
    incident = serializers.IntegerField(source="incident_id")
    started_at = serializers.DateTimeField(source="incident.started_at")
    ended_at = serializers.DateTimeField(source="incident.ended_at", allow_null=True)

    class Meta:
        model = EventMember
        fields = ["service", "incident", "joined_at", "started_at", "ended_at"]


class ProviderSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField(help_text="For people: 'AWS us-east-1'.")
    services = serializers.IntegerField(help_text="How many of the event's services run on it.")
    share_of_all_services = serializers.FloatField(help_text="Its share of all services: what chance would give.")


class EventSerializer(serializers.ModelSerializer):
    services = EventMemberSerializer(source="members", many=True, read_only=True)
    scope = serializers.JSONField()
    provider = serializers.SerializerMethodField()
    span_minutes = serializers.SerializerMethodField()
    expected_by_chance = serializers.SerializerMethodField()

    class Meta:
        model = WidespreadEvent
        fields = [
            "id", "status", "started_at", "detected_at", "ended_at", "scope", "services", "span_minutes",
            "expected_by_chance", "chance", "provider",
        ]  # fmt: skip
        extra_kwargs = {"chance": {"help_text": "Chance of so large a cluster somewhere in a quiet day."}}

    def get_span_minutes(self, event: WidespreadEvent) -> float:
        starts = [m.incident.started_at for m in event.members.all()]
        return round((max(starts) - min(starts)).total_seconds() / 60, 1) if starts else 0.0

    def get_expected_by_chance(self, event: WidespreadEvent) -> float:
        """Incident onsets that chance alone would put in the event's span (at least one 10-minute window)."""
        return round(expected_by_chance(rate=event.rate_per_minute, span_minutes=self.get_span_minutes(event)), 3)

    @extend_schema_field(ProviderSerializer(allow_null=True))
    def get_provider(self, event: WidespreadEvent) -> dict | None:
        if not event.provider:
            return None
        return {
            "name": event.provider,
            "label": provider_label(event.provider),
            "services": event.provider_members,
            "share_of_all_services": round(event.provider_share or 0.0, 4),
        }
