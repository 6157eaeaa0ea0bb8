import uuid

from django.conf import settings
from django.db import models

from analytics.models import Incident, Level
from reports.models import Service


class Subscription(models.Model):
    """Where and what to deliver; empty filters mean 'everything'."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # Kept in clear: every delivery is signed with it (HMAC-SHA256).
    secret = models.CharField(max_length=128)
    services = models.ManyToManyField(Service, blank=True, related_name="+")
    regions = models.JSONField(default=list, blank=True)
    min_level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.POSSIBLE)
    events = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.url


class Event(models.Model):
    """One incident event with its body frozen when it happened; deliveries resend these exact bytes' source."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=32)
    occurred_at = models.DateTimeField()
    payload = models.JSONField()
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The sweeper: events whose fan-out task was lost.
            models.Index(fields=["fanned_out_at", "occurred_at"], name="webhook_event_fanout_idx"),
            # Pruning old events.
            models.Index(fields=["occurred_at"], name="webhook_event_occurred_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.uid}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    # Copied from the event: deliveries of one incident to one subscriber go out in event order.
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # A claim on the row while one worker sends it (conditional UPDATE, no Redis lock).
    locked_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Fan-out can run twice (retried task, sweeper) without sending twice.
            models.UniqueConstraint(fields=["subscription", "event"], name="webhook_delivery_once"),
        ]
        indexes = [
            # "The oldest pending delivery of this incident to this subscriber".
            models.Index(fields=["subscription", "incident", "status", "event"], name="webhook_delivery_queue_idx"),
            # The sweeper: pending deliveries that are due.
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} -> {self.subscription_id}: {self.status}"


class DeliveryAttempt(models.Model):
    """The delivery log a subscriber sees: one row per HTTP attempt."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.status_code or self.error}"
