"""Incident events (incident.opened / incident.updated / incident.resolved).

The incident lifecycle calls `publish_incident_event` after its transaction
commits; webhook delivery hooks in here.
"""

import logging

log = logging.getLogger(__name__)

EVENT_TYPES = ("incident.opened", "incident.updated", "incident.resolved")


def publish_incident_event(*, incident_id: int, event: str) -> None:
    """Record the event (one insert, freezing the incident as it is now) and queue its fan-out.

    The fan-out and every HTTP call run in Celery (queue `webhooks`), never
    here. If the broker is unreachable, the sweeper fans the event out later.
    """
    if event not in EVENT_TYPES:
        raise ValueError(f"unknown incident event {event!r}")
    log.info("incident %s: %s", incident_id, event)
    from analytics.webhooks.services import event_record
    from analytics.webhooks.tasks import fan_out

    record = event_record(incident_id=incident_id, event=event)
    if record is None:
        return
    try:
        fan_out.delay(record.pk)
    except Exception as exc:  # broker down: the detection tick must not fail over a webhook
        log.warning("webhooks: could not queue fan-out of %s (%s); the sweeper will", record.uid, exc)
