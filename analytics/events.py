"""Incident events (incident.opened / incident.updated / incident.resolved).

The incident lifecycle calls `publish_incident_event` after its transaction
commits. Analytics does not know who listens: the webhooks app connects to
`incident_event` (webhooks.apps), so the dependency runs from webhooks to
analytics and never back.
"""

import logging

from django.dispatch import Signal

from .core.lifecycle import EVENT_TYPES

log = logging.getLogger(__name__)

# Sent with incident_id and event; receivers must not raise into the tick.
incident_event = Signal()
# Sent with event_id (a WidespreadEvent), kind (analytics.widespread.EVENT_TYPES) and incident_id
# (the member that joined or resolved it; None when it opened).
widespread_event = Signal()


def publish_incident_event(*, incident_id: int, event: str) -> None:
    """Announce an event of one incident to every receiver (webhooks records and queues it)."""
    if event not in EVENT_TYPES:
        raise ValueError(f"unknown incident event {event!r}")
    log.info("incident %s: %s", incident_id, event)
    incident_event.send(sender=None, incident_id=incident_id, event=event)


def publish_widespread_event(event_id: int, kind: str, incident_id: int | None) -> None:
    """Announce a widespread event opening, a service joining it, or its end."""
    log.info("widespread event %s: %s (incident %s)", event_id, kind, incident_id)
    widespread_event.send(sender=None, event_id=event_id, kind=kind, incident_id=incident_id)
