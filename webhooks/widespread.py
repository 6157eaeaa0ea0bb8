"""Webhooks of widespread events (event.opened, event.service_joined, event.resolved).

They travel through the incident webhooks' machinery: each is recorded on
the event's first member incident (its anchor), so per subscriber they go out
in order like one incident's events. They differ in two ways: the payload is
the event (`GET /api/v1/events/<id>/`), and only subscriptions that name them
in `events` get them (an existing consumer of incident events must not
receive a body of another shape).
"""

import json

from django.utils import timezone

from analytics.models import EventMember, Incident, WidespreadEvent
from analytics.serializers import EventSerializer
from analytics.widespread import EVENT_TYPES as WIDESPREAD_TYPES

from .models import Event, Subscription

__all__ = ["WIDESPREAD_TYPES", "widespread_matches", "widespread_record"]


def widespread_record(*, event_id: int, kind: str, incident_id: int | None) -> Event | None:
    """Freeze the widespread event as it is now; None when nobody subscribes to these."""
    subscribed = Subscription.objects.filter(is_active=True).values_list("events", flat=True)
    if not any(kind in (events or []) for events in subscribed):
        return None
    event = WidespreadEvent.objects.filter(pk=event_id).prefetch_related("members__incident__service").first()
    if event is None:
        return None
    anchor = EventMember.objects.filter(event=event).order_by("joined_at", "id").values_list("incident_id", flat=True)
    member = Incident.objects.select_related("service").filter(pk=incident_id).first() if incident_id else None
    record = Event(incident_id=anchor.first(), type=kind, occurred_at=timezone.now())
    payload = {
        "id": str(record.uid),
        "type": kind,
        "created_at": record.occurred_at.isoformat().replace("+00:00", "Z"),
        "service": member.service.slug if member and kind != WIDESPREAD_TYPES[0] else None,
        "event": EventSerializer(event).data,
    }
    # Through JSON once so the stored payload is exactly what gets sent (datetimes as strings).
    record.payload = json.loads(json.dumps(payload, default=str))
    record.save()
    return record


def widespread_matches(sub: Subscription, event: Event, already: set[int]) -> bool:
    """Named in `events`; a member among `services` and a region among `regions` when those are set."""
    if event.type not in (sub.events or []):
        return False
    if sub.pk in already:
        return True  # who got the event's start gets the rest of it
    body = event.payload.get("event", {})
    slugs = {m["service"] for m in body.get("services", [])}
    if sub.services.all() and not slugs & {s.slug for s in sub.services.all()}:
        return False
    regions = set((body.get("scope") or {}).get("regions") or [])
    return not (sub.regions and regions and not regions & set(sub.regions))
