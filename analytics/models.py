import json

from django.db import models

from reports.models import Feature, Service

from .core import levels


class SlicesField(models.Field):
    """The per-slice counts of one service-minute: (region, country, code, feature_id, count) rows.

    PostgreSQL: an array of the composite type `analytics_slice` (migration
    0005), built by `array_agg` and read back with `unnest` (the BucketSlice
    view); SQLite: the same rows as JSON text, read with `json_each`. Written
    by analytics.bucketing' SQL only; Python sees lists of lists on SQLite.
    """

    def db_type(self, connection):
        return "analytics_slice[]" if connection.vendor == "postgresql" else "text"

    def from_db_value(self, value, expression, connection):
        return json.loads(value) if isinstance(value, str) and value.startswith("[") else value


class Bucket(models.Model):
    """Reports per service and minute, with the counts of every slice of that minute.

    One row per service-minute rather than one per (minute, region, country,
    code, feature): on sparse traffic a report is nearly its own slice, and
    850,000 slice rows a day cost a B-tree insertion each, four times what
    30,000 minute rows with their slices packed in an array cost (bench 3,
    bench/README.md). Derived data (`rebuild_buckets` recomputes it): no
    database foreign keys; Django still cascades deletes of services.
    Read slices through `BucketSlice`, totals from here.
    """

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    minute = models.DateTimeField()
    total = models.PositiveIntegerField()
    slices = SlicesField()

    class Meta:
        db_table = "analytics_bucket_minute"
        constraints = [
            # Bucketing upserts absolute counts on this key, which is what makes
            # two concurrent runs (or a rerun) harmless; its index serves
            # every read (service, minute range).
            models.UniqueConstraint(fields=["service", "minute"], name="bucket_unique_minute"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.minute:%Y-%m-%d %H:%M}: {self.total}"


class BucketSlice(models.Model):
    """Read-only view: one row per service, minute and slice, unpacked from Bucket.slices.

    What the readers group and filter (selectors.report_counts). A view, so
    filters on service and minute reach Bucket's index. Query it with
    values()/aggregate(): it has no primary key of its own.
    """

    service = models.ForeignKey(Service, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    minute = models.DateTimeField()
    region = models.CharField(max_length=8)
    country = models.CharField(max_length=2)
    code = models.CharField(max_length=32)
    feature = models.ForeignKey(Feature, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    count = models.PositiveIntegerField()

    class Meta:
        managed = False
        db_table = "analytics_bucket_slice"

    def __str__(self) -> str:
        return f"{self.service_id} {self.minute:%Y-%m-%d %H:%M} {self.region}/{self.country}/{self.code}: {self.count}"


class BucketingState(models.Model):
    """Singleton row: up to which time buckets are complete."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    # Every minute before this has been bucketed (as of the last run).
    bucketed_until = models.DateTimeField(null=True)
    # Reports received after this (minus the overlap) are still to be looked at.
    scanned_until = models.DateTimeField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"bucketed until {self.bucketed_until}"


class ProfileSnapshot(models.Model):
    """The pickled GridProfiles of one service at one refit point (analytics.snapshots).

    The tick caches its profiles in Redis; when Redis loses them (flush,
    restart, eviction) the next tick would refit every service at once. This
    copy survives that. `version` fingerprints the detector config and the
    pickle's format, so a deploy never reads profiles fitted by other code.
    Derived data (a missing row is fitted again): no database foreign key,
    like Bucket; Django still cascades deletes of services.
    """

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    at = models.DateTimeField()
    version = models.CharField(max_length=16)
    blob = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Two workers fitting the same point both insert with ON CONFLICT DO
            # NOTHING on this key; its index serves the lookup (service, at,
            # version) and the pruning (service, at < cutoff).
            models.UniqueConstraint(fields=["service", "at", "version"], name="profile_snapshot_unique_point"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.at:%Y-%m-%d %H:%M} ({self.version})"


class Level(models.IntegerChoices):
    NORMAL = levels.NORMAL, levels.LEVEL_NAMES[levels.NORMAL]
    POSSIBLE = levels.POSSIBLE, levels.LEVEL_NAMES[levels.POSSIBLE]
    PROBLEMS = levels.PROBLEMS, levels.LEVEL_NAMES[levels.PROBLEMS]


class Incident(models.Model):
    """An outage of one service as the detector saw it; one row across relapses (phases)."""

    class Status(models.TextChoices):
        ONGOING = "ongoing"
        RESOLVED = "resolved"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="incidents")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ONGOING)
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.PROBLEMS)
    started_at = models.DateTimeField(help_text="Estimated onset, not the detection time.")
    detected_at = models.DateTimeField()
    peak_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    peak_reports_per_minute = models.FloatField()
    baseline_at_peak = models.FloatField()
    excess_reports = models.FloatField()
    # {"regions": [...], "countries": [...], "codes": [...], "features": [...]}, by share of the excess.
    scope = models.JSONField(default=dict)
    scope_shares = models.JSONField(default=dict)
    is_regional = models.BooleanField(default=False)
    # [{"started_at": iso, "ended_at": iso | None}]: a relapse within the merge gap adds a phase.
    phases = models.JSONField(default=list)
    # Lifecycle bookkeeping the tick resumes from (alarming slices, recovery
    # start, per-slice sums behind the scope); never shown in the API.
    tracking = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # The tick: "the ongoing incident of this service"; lists by service and time.
            models.Index(fields=["service", "status", "started_at"], name="incident_service_status_idx"),
            models.Index(fields=["started_at"], name="incident_started_idx"),
        ]
        constraints = [
            # Two ticks racing can never open two ongoing incidents for one service.
            models.UniqueConstraint(
                fields=["service"], condition=models.Q(status="ongoing"), name="one_ongoing_incident_per_service"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.get_status_display()} since {self.started_at:%Y-%m-%d %H:%M}"


class ServiceStatus(models.Model):
    """The detector's latest verdict per service, written by every tick."""

    service = models.OneToOneField(Service, on_delete=models.CASCADE, primary_key=True, related_name="status")
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.NORMAL)
    evaluated_at = models.DateTimeField(null=True)
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"{self.service_id}: {self.get_level_display()}"


class WidespreadEvent(models.Model):
    """Incidents of many services that started together: one outage of something they share.

    Formed and grown by analytics.widespread with analytics.core.grouping's rule.
    """

    class Status(models.TextChoices):
        ONGOING = "ongoing"
        RESOLVED = "resolved"

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ONGOING)
    started_at = models.DateTimeField(help_text="The earliest onset of its members.")
    detected_at = models.DateTimeField(help_text="When enough incidents had opened to tell it from chance.")
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When its last member resolved.")
    # {"regions": [...], "codes": [...]}: regions any member covers, codes two or more agree on.
    scope = models.JSONField(default=dict)
    # Onsets per minute of all services together when it formed (the chance sentence's input).
    rate_per_minute = models.FloatField()
    chance = models.FloatField(help_text="Chance of so large a cluster somewhere in a day of quiet operation.")
    provider = models.CharField(max_length=64, blank=True)
    provider_members = models.PositiveIntegerField(default=0)
    provider_share = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["status", "started_at"], name="event_status_started_idx"),
            models.Index(fields=["started_at"], name="event_started_idx"),
        ]

    def __str__(self) -> str:
        return f"event {self.pk} {self.get_status_display()} since {self.started_at:%Y-%m-%d %H:%M}"


class EventMember(models.Model):
    """One incident in a widespread event, and when it joined."""

    event = models.ForeignKey(WidespreadEvent, on_delete=models.CASCADE, related_name="members")
    # One event per incident: two workers grouping at once cannot both claim it.
    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="event_membership")
    joined_at = models.DateTimeField()

    class Meta:
        ordering = ["joined_at", "incident__started_at", "id"]

    def __str__(self) -> str:
        return f"{self.incident_id} in {self.event_id}"


class EventGroupingLock(models.Model):
    """Singleton row locked while grouping: concurrent groupings run one after the other.

    Each grouping runs after its incident's transaction committed and sees what
    the previous one wrote, so racing batches never form two events of one outage.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)

    def __str__(self) -> str:
        return "event grouping lock"
