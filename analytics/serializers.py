"""The incident representation: the API, replay output and webhooks all use this one."""

from rest_framework import serializers

from .models import Incident, Level


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
