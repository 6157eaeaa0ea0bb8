"""Reads of the official status: a service's current status, the acknowledgement and lead of an incident, stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Min
from django.utils import timezone

from analytics.models import Incident, Level

from .lead import LeadStats, Mark, acknowledgement, lead_minutes, lead_stats
from .models import OfficialIncident, Source, Status, StatusChange

QUIET = (Status.OPERATIONAL, Status.UNKNOWN)  # statuses that acknowledge nothing


@dataclass(frozen=True)
class Acknowledgement:
    at: datetime | None  # None: not (or not yet) acknowledged
    lead_minutes: int | None  # positive: Tremor first
    incident: OfficialIncident | None

    @property
    def minutes(self) -> int | None:
        return abs(self.lead_minutes) if self.lead_minutes is not None else None


@dataclass(frozen=True)
class ServiceOfficial:
    source: Source
    stats: LeadStats


def service_official(service_id: int) -> ServiceOfficial | None:
    """The service page's official status and lead statistics; None without a source."""
    source = source_of(service_id)
    if source is None:
        return None
    return ServiceOfficial(source=source, stats=service_lead_stats(service_id, source=source))


def source_of(service_id: int) -> Source | None:
    return Source.objects.exclude(kind=Source.Kind.NONE).filter(service_id=service_id).first()


def history(*, service_id: int, limit: int = 100) -> tuple[list[StatusChange], list[OfficialIncident]]:
    """The newest status changes and published incidents of a service, newest first."""
    changes = StatusChange.objects.filter(source__service_id=service_id).order_by("-changed_at")[:limit]
    incidents = OfficialIncident.objects.filter(source__service_id=service_id).order_by("-acknowledged_at")[:limit]
    return list(changes), list(incidents)


def _marks(source: Source) -> list[Mark]:
    changes = StatusChange.objects.filter(source=source).exclude(status__in=QUIET)
    incidents = OfficialIncident.objects.filter(source=source)
    marks = [Mark(at=at) for at in changes.values_list("changed_at", flat=True)]
    marks += [Mark(at=at, until=until, incident_id=pk) for pk, at, until in
              incidents.values_list("pk", "acknowledged_at", "resolved_at")]  # fmt: skip
    return marks


def _acknowledgement_of(incident: Incident, marks: list[Mark], now: datetime) -> Mark | None:
    return acknowledgement(started_at=incident.started_at, ended_at=incident.ended_at, now=now, marks=marks)


def incident_acknowledgement(incident: Incident) -> Acknowledgement | None:
    """None when the service has no official source; else when (and if) it acknowledged this incident."""
    source = source_of(incident.service_id)
    if source is None:
        return None
    mark = _acknowledgement_of(incident, _marks(source), timezone.now())
    if mark is None:
        return Acknowledgement(at=None, lead_minutes=None, incident=None)
    official = OfficialIncident.objects.filter(pk=mark.incident_id).first() if mark.incident_id else None
    if official is None:  # a status change came first: name the official incident that overlaps, if any
        official = (
            OfficialIncident.objects.filter(source=source, acknowledged_at__lte=incident.ended_at or timezone.now())
            .filter(acknowledged_at__gte=mark.at)
            .order_by("acknowledged_at")
            .first()
        )
    return Acknowledgement(
        at=mark.at, lead_minutes=lead_minutes(detected_at=incident.detected_at, acknowledged_at=mark.at),
        incident=official,
    )  # fmt: skip


def service_lead_stats(service_id: int, *, source: Source | None = None) -> LeadStats | None:
    """Over the resolved Tremor incidents since the official page has anything on record."""
    source = source or source_of(service_id)
    if source is None:
        return None
    marks = _marks(source)
    first_change = StatusChange.objects.filter(source=source).aggregate(first=Min("changed_at"))["first"]
    since = min([m.at for m in marks] + ([first_change] if first_change else []), default=None)
    if since is None:
        return lead_stats([])
    now = timezone.now()
    leads = []
    for incident in Incident.objects.filter(
        service_id=service_id, status=Incident.Status.RESOLVED, ended_at__gte=since
    ).only("started_at", "ended_at", "detected_at"):
        mark = _acknowledgement_of(incident, marks, now)
        leads.append(None if mark is None else lead_minutes(detected_at=incident.detected_at, acknowledged_at=mark.at))
    return lead_stats(leads)


def unacknowledged_service_ids(service_levels: dict[int, int]) -> set[int]:
    """Of services Tremor sees problems with, those whose official page says nothing is wrong."""
    troubled = [pk for pk, level in service_levels.items() if level >= Level.PROBLEMS]
    return set(
        Source.objects.exclude(kind=Source.Kind.NONE)
        .filter(service_id__in=troubled, status__in=QUIET)
        .values_list("service_id", flat=True)
    )


def change_payload(change_id: int) -> dict | None:
    """A status change as webhooks send it, with the lead of the incident it happened during."""
    change = StatusChange.objects.select_related("source__service", "incident").filter(pk=change_id).first()
    if change is None:
        return None
    ack = incident_acknowledgement(change.incident) if change.incident else None
    return {
        "service": change.source.service.slug,
        "status": change.status,
        "previous": change.previous,
        "changed_at": change.changed_at.isoformat().replace("+00:00", "Z"),
        "source_url": change.source.url,
        "lead_minutes": ack.lead_minutes if ack else None,
    }
