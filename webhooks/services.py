"""Webhook writes: record events, fan them out to subscriptions, deliver with retries.

Delivery is at least once: a consumer dedupes on the event id. Per
subscription and incident, events go out in the order they happened: the
next one waits until the previous one succeeded or was given up.
"""

import json
import logging
import random
import secrets
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from analytics.models import Incident
from analytics.serializers import IncidentSerializer

from . import signing, transport
from .models import Delivery, DeliveryAttempt, Event, Subscription
from .widespread import WIDESPREAD_TYPES, widespread_matches

log = logging.getLogger(__name__)

FAN_OUT_WAIT_SECONDS = 0.5


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def event_record(*, incident_id: int, event: str, extra: dict | None = None) -> Event | None:
    """Freeze the incident as it is now into an event (with `extra` keys in the body); None when nobody subscribes."""
    if not Subscription.objects.filter(is_active=True).exists():
        return None
    incident = Incident.objects.select_related("service").filter(pk=incident_id).first()
    if incident is None:
        log.warning("webhook event %s for missing incident %s", event, incident_id)
        return None
    record = Event(incident=incident, type=event, occurred_at=timezone.now())
    record.payload = {
        "id": str(record.uid),
        "type": event,
        "created_at": record.occurred_at.isoformat().replace("+00:00", "Z"),
        "incident": IncidentSerializer(incident).data,
        **(extra or {}),
    }
    # Through JSON once so the stored payload is exactly what gets sent (datetimes as strings).
    record.payload = json.loads(json.dumps(record.payload, default=str))
    record.save()
    return record


def _matches(sub: Subscription, event: Event, already: set[int]) -> bool:
    if sub.pk in already:
        # A subscriber who got the start of an incident gets the rest of it, whatever its filters say now.
        return True
    incident = event.incident
    if sub.events and event.type not in sub.events:
        return False
    if incident.level < sub.min_level:
        return False
    if sub.services.all() and incident.service_id not in {s.pk for s in sub.services.all()}:
        return False
    regions = set((incident.scope or {}).get("regions") or [])
    if sub.regions and incident.is_regional and regions and not regions & set(sub.regions):
        return False
    return True


def fan_out_event(*, event_id: int) -> list[tuple[int, int]]:
    """Create one delivery per matching subscription; returns (subscription, incident) pairs to deliver."""
    event = Event.objects.select_related("incident").get(pk=event_id)
    # Widespread events ride on their anchor incident's deliveries (webhooks.widespread); each kind
    # has its own "already got the start of it".
    widespread = event.type in WIDESPREAD_TYPES
    prior = Delivery.objects.filter(incident_id=event.incident_id)
    prior = (
        prior.filter(event__type__in=WIDESPREAD_TYPES)
        if widespread
        else prior.exclude(event__type__in=WIDESPREAD_TYPES)
    )
    already = set(prior.values_list("subscription_id", flat=True).distinct())
    matches = widespread_matches if widespread else _matches
    active = Subscription.objects.filter(is_active=True).prefetch_related("services")
    subs = [s for s in active if matches(s, event, already)]
    now = timezone.now()
    with transaction.atomic():
        Delivery.objects.bulk_create(
            [Delivery(subscription=s, event=event, incident_id=event.incident_id, next_attempt_at=now) for s in subs],
            ignore_conflicts=True,
        )
        Event.objects.filter(pk=event.pk, fanned_out_at=None).update(fanned_out_at=now)
    return [(s.pk, event.incident_id) for s in subs]


def backoff_seconds(attempt: int) -> float:
    """Exponential, capped, with 'equal jitter' so retries from many deliveries spread out."""
    base, cap = settings.TREMOR_WEBHOOK_BACKOFF_SECONDS, settings.TREMOR_WEBHOOK_BACKOFF_MAX_SECONDS
    delay = min(base * 2 ** (attempt - 1), cap)
    return delay / 2 + random.uniform(0, delay / 2)


def deliver_pending(*, subscription_id: int, incident_id: int) -> float | None:
    """Send this subscriber's pending events of this incident, oldest first.

    Returns seconds until the head delivery is due again (a retry), or None
    when there is nothing left to do here (done, disabled, or another worker
    holds the head delivery and will carry on).
    """
    while True:
        sub = Subscription.objects.filter(pk=subscription_id, is_active=True).first()
        if sub is None:
            return None
        head = (
            Delivery.objects.filter(subscription=sub, incident_id=incident_id, status=Delivery.Status.PENDING)
            .select_related("event")
            .order_by("event_id")
            .first()
        )
        if head is None:
            return None
        now = timezone.now()
        if head.next_attempt_at > now:
            return (head.next_attempt_at - now).total_seconds()
        if Event.objects.filter(incident_id=incident_id, pk__lt=head.event_id, fanned_out_at=None).exists():
            # An earlier event of this incident is still being fanned out (tasks run in parallel):
            # it may be for this subscriber too, and must go first.
            return FAN_OUT_WAIT_SECONDS
        lease = now + timedelta(seconds=2 * settings.TREMOR_WEBHOOK_TIMEOUT_SECONDS + 10)
        claimed = (
            # `attempts` as a version: a worker that read the row before another one's attempt finished
            # must not resend it (with a stale attempt number, ignoring the new backoff).
            Delivery.objects.filter(pk=head.pk, status=Delivery.Status.PENDING, attempts=head.attempts)
            .filter(next_attempt_at__lte=now)
            .filter(Q(locked_until=None) | Q(locked_until__lt=now))
            .update(locked_until=lease)
        )
        if claimed != 1:
            return None
        retry_at = _attempt(sub, head)
        if retry_at is not None:
            return max(0.0, (retry_at - timezone.now()).total_seconds())


def _attempt(sub: Subscription, delivery: Delivery) -> datetime | None:
    """One HTTP attempt and its bookkeeping; returns when to retry, or None when the delivery is settled."""
    number = delivery.attempts + 1
    body = json.dumps(delivery.event.payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Tremor-Webhooks/1",
        "Tremor-Event": delivery.event.type,
        "Tremor-Event-Id": str(delivery.event.uid),
        "Tremor-Delivery-Attempt": str(number),
        signing.HEADER: signing.sign(secret=sub.secret, body=body, timestamp=int(time.time())),
    }
    try:
        # Checked and connected in one: post() connects to the very address it checked.
        outcome = transport.post(
            sub.url,
            body=body,
            headers=headers,
            timeout=settings.TREMOR_WEBHOOK_TIMEOUT_SECONDS,
            allow_private=settings.TREMOR_WEBHOOK_ALLOW_PRIVATE_TARGETS,
        )
    except transport.TargetRefused as exc:
        outcome = transport.Outcome(None, 0, f"refused target: {exc}")
    now = timezone.now()
    window_end = delivery.created_at + timedelta(seconds=settings.TREMOR_WEBHOOK_RETRY_WINDOW_SECONDS)
    retry_at = None
    if outcome.ok:
        status = Delivery.Status.SUCCEEDED
    elif now >= window_end or outcome.status_code == 410:
        status = Delivery.Status.FAILED
    else:
        status = Delivery.Status.PENDING
        retry_at = min(now + timedelta(seconds=backoff_seconds(number)), window_end)
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=number,
            at=now,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            error=outcome.error,
        )
        Delivery.objects.filter(pk=delivery.pk).update(
            attempts=number,
            status=status,
            last_status_code=outcome.status_code,
            last_error=outcome.error,
            locked_until=None,
            next_attempt_at=retry_at or now,
            completed_at=None if status == Delivery.Status.PENDING else now,
        )
        if outcome.ok:
            Subscription.objects.filter(pk=sub.pk).exclude(consecutive_failures=0).update(consecutive_failures=0)
        else:
            Subscription.objects.filter(pk=sub.pk).update(consecutive_failures=F("consecutive_failures") + 1)
            _maybe_disable(sub.pk, gave_up=status == Delivery.Status.FAILED, gone=outcome.status_code == 410)
    log.info("webhook %s -> %s #%s: %s", delivery.event.uid, sub.url, number, outcome.status_code or outcome.error)
    return retry_at


def _maybe_disable(subscription_id: int, *, gave_up: bool, gone: bool) -> None:
    failures = Subscription.objects.filter(pk=subscription_id).values_list("consecutive_failures", flat=True).first()
    limit = settings.TREMOR_WEBHOOK_DISABLE_AFTER_FAILURES
    if gone:
        reason = "the endpoint answered 410 Gone"
    elif gave_up:
        reason = "a delivery failed for the whole retry window"
    elif failures is not None and failures >= limit:
        reason = f"{failures} failed attempts in a row"
    else:
        return
    Subscription.objects.filter(pk=subscription_id, is_active=True).update(
        is_active=False, disabled_at=timezone.now(), disabled_reason=reason
    )
    log.warning("webhook subscription %s disabled: %s", subscription_id, reason)


def subscription_reenable(*, subscription: Subscription) -> list[tuple[int, int]]:
    """Turn a subscription back on; returns its (subscription, incident) pairs with pending deliveries."""
    Subscription.objects.filter(pk=subscription.pk).update(
        is_active=True, disabled_at=None, disabled_reason="", consecutive_failures=0
    )
    now = timezone.now()
    Delivery.objects.filter(subscription=subscription, status=Delivery.Status.PENDING).update(
        next_attempt_at=now, locked_until=None
    )
    return due_pairs(subscription_id=subscription.pk)


def due_pairs(*, subscription_id: int | None = None, limit: int = 1000) -> list[tuple[int, int]]:
    """(subscription, incident) pairs with a pending delivery that is due and not claimed."""
    now = timezone.now()
    qs = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now, subscription__is_active=True)
    qs = qs.filter(Q(locked_until=None) | Q(locked_until__lt=now))
    if subscription_id is not None:
        qs = qs.filter(subscription_id=subscription_id)
    return list(qs.values_list("subscription_id", "incident_id").distinct().order_by()[:limit])


def events_not_fanned_out(*, older_than: timedelta = timedelta(seconds=30)) -> list[int]:
    cutoff = timezone.now() - older_than
    return list(Event.objects.filter(fanned_out_at=None, occurred_at__lt=cutoff).values_list("pk", flat=True)[:1000])


def prune_old_events() -> int:
    cutoff = timezone.now() - timedelta(days=settings.TREMOR_WEBHOOK_LOG_DAYS)
    deleted, _ = Event.objects.filter(occurred_at__lt=cutoff).delete()
    return deleted
