"""The official status in the API: shapes only (the read API in public/api and the webhook payload use them)."""

from rest_framework import serializers

from .models import Source, Status


class OfficialIncidentOut(serializers.Serializer):
    title = serializers.CharField()
    state = serializers.CharField(help_text="As the page says it: investigating, identified, monitoring, resolved...")
    impact = serializers.CharField()
    url = serializers.CharField()
    acknowledged_at = serializers.DateTimeField(help_text="When the service first published it.")
    resolved_at = serializers.DateTimeField(allow_null=True)


class LeadStatsOut(serializers.Serializer):
    incidents = serializers.IntegerField(help_text="Resolved Tremor incidents since the official page has records.")
    acknowledged = serializers.IntegerField()
    median_lead_minutes = serializers.FloatField(
        allow_null=True, help_text="Median minutes from Tremor's detection to the official acknowledgement."
    )
    never_acknowledged_share = serializers.FloatField(allow_null=True, help_text="0 to 1.")


class ServiceOfficialOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Source.Kind.values)
    url = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.values)
    status_since = serializers.DateTimeField(allow_null=True)
    last_success_at = serializers.DateTimeField(allow_null=True, help_text="The last poll that worked.")
    stats = LeadStatsOut()


class AcknowledgementOut(serializers.Serializer):
    acknowledged_at = serializers.DateTimeField(allow_null=True, help_text="Null: not (or not yet) acknowledged.")
    lead_minutes = serializers.IntegerField(
        allow_null=True, help_text="Positive: Tremor detected it that many minutes earlier; negative: later."
    )
    incident = OfficialIncidentOut(allow_null=True)


class StatusChangeOut(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.values)
    previous = serializers.ChoiceField(choices=Status.values)
    changed_at = serializers.DateTimeField()
    seen_at = serializers.DateTimeField(help_text="When Tremor's poller first saw it.")


class OfficialHistoryOut(serializers.Serializer):
    service = serializers.CharField()
    official = ServiceOfficialOut(allow_null=True)
    changes = StatusChangeOut(many=True, help_text="Newest first, at most `limit`.")
    incidents = OfficialIncidentOut(many=True, help_text="Newest first, at most `limit`.")


def service_official_data(official) -> dict | None:
    """official.selectors.ServiceOfficial -> the API's shape."""
    if official is None:
        return None
    source = official.source
    return ServiceOfficialOut(
        {
            "kind": source.kind,
            "url": source.url,
            "status": source.status,
            "status_since": source.status_since,
            "last_success_at": source.last_success_at,
            "stats": official.stats,
        }  # fmt: skip
    ).data


def acknowledgement_data(ack) -> dict | None:
    """official.selectors.Acknowledgement -> the API's shape (None: the service has no official source)."""
    if ack is None:
        return None
    return AcknowledgementOut(
        {"acknowledged_at": ack.at, "lead_minutes": ack.lead_minutes, "incident": ack.incident}
    ).data
