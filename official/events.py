"""The official status changed while Tremor had an incident open: announced to whoever listens (webhooks)."""

import logging

from django.dispatch import Signal

log = logging.getLogger(__name__)

EVENT_TYPE = "incident.official_status_changed"
# Sent with incident_id (the ongoing Tremor incident) and change_id (official.models.StatusChange).
official_status_changed = Signal()


def publish_official_change(*, incident_id: int, change_id: int) -> None:
    log.info("incident %s: official status changed (%s)", incident_id, change_id)
    official_status_changed.send(sender=None, incident_id=incident_id, change_id=change_id)
