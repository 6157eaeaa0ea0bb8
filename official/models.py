"""What a service's own status page says: its source, the status changes and incidents it published."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from analytics.models import Incident
from reports.models import Service


class Status(models.TextChoices):
    # Statuspage's component and page indicators, mapped (official.parsing.STATUSPAGE_STATUS).
    OPERATIONAL = "operational", _("operational")
    MAINTENANCE = "maintenance", _("maintenance")
    DEGRADED = "degraded", _("degraded performance")
    PARTIAL = "partial_outage", _("partial outage")
    MAJOR = "major_outage", _("major outage")
    UNKNOWN = "unknown", _("unknown")


class Source(models.Model):
    """Where a service publishes its official status, and the polling bookkeeping."""

    class Kind(models.TextChoices):
        NONE = "none"
        STATUSPAGE = "statuspage"  # Atlassian Statuspage: /api/v2/summary.json and /api/v2/incidents.json
        RSS = "rss"  # an RSS 2.0 status feed, or an official account's posts exported as RSS
        ATOM = "atom"

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="official_source")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.NONE)
    # The page's base URL for Statuspage (https://status.example.com), the feed's URL otherwise.
    url = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNKNOWN)
    status_since = models.DateTimeField(null=True, blank=True)
    # Conditional requests: the validators of the last answer, per polled URL.
    validators = models.JSONField(default=dict, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            # The poller: "sources that are due".
            models.Index(fields=["kind", "next_poll_at"], name="official_source_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.service.slug}: {self.kind}"


class StatusChange(models.Model):
    """The official status moved from one value to another (as first seen by the poller)."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="changes")
    status = models.CharField(max_length=16, choices=Status.choices)
    previous = models.CharField(max_length=16, choices=Status.choices)
    # When the page says it changed where it says so (Statuspage's updated_at), else when we saw it.
    changed_at = models.DateTimeField()
    seen_at = models.DateTimeField()
    # The Tremor incident ongoing when the change was seen: these become a webhook event and a feed entry.
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-changed_at"]
        indexes = [
            # The history API and the lead: changes of one source in time order.
            models.Index(fields=["source", "changed_at"], name="official_change_source_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id}: {self.previous} -> {self.status} at {self.changed_at:%Y-%m-%d %H:%M}"


class OfficialIncident(models.Model):
    """An incident as the service published it (a Statuspage incident, a feed entry)."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="incidents")
    external_id = models.CharField(max_length=200)
    title = models.CharField(max_length=300)
    state = models.CharField(max_length=32, blank=True)  # investigating, identified, monitoring, resolved...
    impact = models.CharField(max_length=32, blank=True)
    url = models.URLField(max_length=500, blank=True)
    # When the service first said it publicly: the acknowledgement the lead is measured against.
    acknowledged_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [
            # Polling twice stores one row per published incident.
            models.UniqueConstraint(fields=["source", "external_id"], name="official_incident_once"),
        ]
        indexes = [
            # Overlap with a Tremor incident: incidents of one source by acknowledgement time.
            models.Index(fields=["source", "acknowledged_at"], name="official_incident_ack_idx"),
        ]

    def __str__(self) -> str:
        return self.title
