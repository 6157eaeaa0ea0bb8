"""Incident events (incident.opened / incident.updated / incident.resolved).

The incident lifecycle calls `publish_incident_event` after its transaction
commits; webhook delivery hooks in here.
"""

import logging

log = logging.getLogger(__name__)

EVENT_TYPES = ("incident.opened", "incident.updated", "incident.resolved")


def publish_incident_event(*, incident_id: int, event: str) -> None:
    if event not in EVENT_TYPES:
        raise ValueError(f"unknown incident event {event!r}")
    log.info("incident %s: %s", incident_id, event)
