import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Max, Min

from .signals import reports_deleted

# What DRF's throttles parse ("600/min"): a positive count, then a period that starts with s, m, h or d.
RATE_RE = re.compile(r"[1-9][0-9]{0,6}/(s|sec|second|m|min|minute|h|hour|d|day)")


def validate_rate(value: str) -> None:
    if value and not RATE_RE.fullmatch(value):
        raise ValidationError(
            "%(value)r is not a rate: a number of requests per s, min, hour or day, e.g. 600/min.",
            params={"value": value},
            code="invalid_rate",
        )


class Service(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    homepage_url = models.URLField(blank=True)
    active = models.BooleanField(default=True)
    # What the service runs on ("aws:us-east-1", "cloudflare"): lets a widespread event name a
    # likely common cause (analytics.core.grouping.attribute_provider). Lowercase, no spaces.
    providers = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Feature(models.Model):
    OTHER = "other"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="features")
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["service", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "slug"], name="feature_unique_per_service"),
        ]

    def __str__(self) -> str:
        return f"{self.service.slug}/{self.slug}"


class ReportQuerySet(models.QuerySet):
    def delete(self):
        # Buckets are derived counts with no FK to their reports: without this, deleted
        # spam would stay in the charts and in detection until `rebuild_buckets` ran.
        spans = {
            row["service_id"]: (row["first"], row["last"])
            for row in self.order_by().values("service_id").annotate(first=Min("observed_at"), last=Max("observed_at"))
        }
        result = super().delete()
        if spans:
            reports_deleted.send(sender=Report, spans=spans)
        return result

    delete.alters_data = True
    delete.queryset_only = True


class Report(models.Model):
    class Source(models.TextChoices):
        WEB = "web"
        API = "api"
        IMPORT = "import"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="reports")
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="reports")
    code = models.CharField(max_length=32)
    country = models.CharField(max_length=2)
    region = models.CharField(max_length=8)
    # When the problem was seen: the server clock for live reports, the
    # partner's `observed_at` for bulk and import. Buckets are keyed on it.
    observed_at = models.DateTimeField()
    # Server clock at insert; bucketing finds new reports through it.
    received_at = models.DateTimeField()
    source = models.CharField(max_length=8, choices=Source.choices)
    comment = models.CharField(max_length=280, blank=True)
    # HMAC of client address + user agent; the raw address is never stored.
    fingerprint = models.CharField(max_length=64, blank=True)
    # The intake log's entry id (reports.intake_log.entry_number) of a report stored by the
    # flusher: unique, so an entry delivered twice (a crash between commit and ack) is stored
    # once; readers also use it to count an entry either in the log or here, never both.
    log_entry = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)

    objects = ReportQuerySet.as_manager()

    class Meta:
        indexes = [
            # Bucketing: "which reports arrived since the last run".
            models.Index(fields=["received_at"], name="report_received_idx"),
            # Raw counts for the minutes not bucketed yet, and rebuilds.
            models.Index(fields=["service", "observed_at"], name="report_service_observed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.code} {self.country} @ {self.observed_at:%Y-%m-%d %H:%M}"

    def delete(self, using=None, keep_parents=False):
        # Through the queryset, so a single delete (the admin's delete page) rebuckets too.
        return type(self).objects.using(using or self._state.db).filter(pk=self.pk).delete()


class ApiToken(models.Model):
    """A partner's API key; only its sha256 is stored (see reports.tokens)."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=120, help_text="What the token is for, e.g. 'newsroom poller'.")
    # The first characters of the key, kept readable so a holder can tell tokens apart.
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # Per-token overrides of the default throttle rates ("600/min"); blank = default.
    read_rate = models.CharField(max_length=32, blank=True, validators=[validate_rate])
    bulk_rate = models.CharField(max_length=32, blank=True, validators=[validate_rate])
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(models.Model):
    """A bulk call's `Idempotency-Key` and its first answer: a retry within 24 h gets that answer, stores nothing."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # sha256 of the parsed body: the same key with another batch is a client bug, answered 422.
    body_sha256 = models.CharField(max_length=64)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="idempotency_key_unique_per_token")]
        indexes = [models.Index(fields=["token", "created_at"], name="idempotency_token_created_idx")]

    def __str__(self) -> str:
        return f"{self.token_id}: {self.key}"
