"""What webhooks does when analytics announces an incident event (connected in WebhooksConfig.ready)."""

import logging

from official.events import EVENT_TYPE as OFFICIAL_EVENT
from official.selectors import change_payload

from .services import event_record
from .tasks import fan_out
from .widespread import widespread_record

log = logging.getLogger(__name__)


def on_incident_event(sender, *, incident_id: int, event: str, **kwargs) -> None:
    """Record the event (one insert, freezing the incident as it is now) and queue its fan-out.

    The fan-out and every HTTP call run in Celery (queue `webhooks`), never
    here. If the broker is unreachable, the sweeper fans the event out later.
    """
    record = event_record(incident_id=incident_id, event=event)
    if record is None:
        return
    try:
        fan_out.delay(record.pk)
    except Exception as exc:  # broker down: the detection tick must not fail over a webhook
        log.warning("webhooks: could not queue fan-out of %s (%s); the sweeper will", record.uid, exc)


def on_widespread_event(sender, *, event_id: int, kind: str, incident_id: int | None, **kwargs) -> None:
    """The same for a widespread event (opened, a service joined, resolved)."""
    record = widespread_record(event_id=event_id, kind=kind, incident_id=incident_id)
    if record is None:
        return
    try:
        fan_out.delay(record.pk)
    except Exception as exc:  # broker down: the grouping must not fail over a webhook
        log.warning("webhooks: could not queue fan-out of %s (%s); the sweeper will", record.uid, exc)


def on_official_change(sender, *, incident_id: int, change_id: int, **kwargs) -> None:
    """The official status changed during a Tremor incident: an incident event with the change in its body."""
    record = event_record(incident_id=incident_id, event=OFFICIAL_EVENT, extra={"official": change_payload(change_id)})
    if record is None:
        return
    try:
        fan_out.delay(record.pk)
    except Exception as exc:  # broker down: the poll must not fail over a webhook
        log.warning("webhooks: could not queue fan-out of %s (%s); the sweeper will", record.uid, exc)
