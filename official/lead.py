"""Pure: when did the service acknowledge a Tremor incident, and by how much did Tremor lead. No Django."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

# An official sign this long before Tremor's estimated onset still counts as the same outage
# (status pages sometimes post "investigating" before the crowd's reports climb).
EARLY_SLACK = timedelta(minutes=30)


@dataclass(frozen=True)
class Mark:
    """An official sign of trouble: a non-operational status change or a published incident."""

    at: datetime
    until: datetime | None = None  # an incident's resolution; None for a status change or still open
    incident_id: int | None = None


def acknowledgement(
    *, started_at: datetime, ended_at: datetime | None, now: datetime, marks: list[Mark]
) -> Mark | None:
    """The earliest official sign that overlaps [started_at - slack, ended_at or now]."""
    low, high = started_at - EARLY_SLACK, ended_at or now
    overlapping = [m for m in marks if m.at <= high and (m.at >= low or (m.until is not None and m.until >= low))]
    # A long official incident opened hours earlier overlaps too, but only a published
    # incident can span that long: a bare status change must fall inside the window.
    overlapping = [m for m in overlapping if m.at >= low or m.incident_id is not None]
    return min(overlapping, key=lambda m: m.at, default=None)


def lead_minutes(*, detected_at: datetime, acknowledged_at: datetime) -> int:
    """Positive: Tremor detected it that many minutes before the official page said so; negative: after."""
    return round((acknowledged_at - detected_at).total_seconds() / 60)


@dataclass(frozen=True)
class LeadStats:
    incidents: int  # resolved Tremor incidents while the source was tracked
    acknowledged: int
    median_lead_minutes: float | None
    never_acknowledged_share: float | None  # 0..1


def lead_stats(leads: list[int | None]) -> LeadStats:
    """One entry per resolved Tremor incident: its lead in minutes, or None when never acknowledged."""
    known = [lead for lead in leads if lead is not None]
    return LeadStats(
        incidents=len(leads),
        acknowledged=len(known),
        median_lead_minutes=float(statistics.median(known)) if known else None,
        never_acknowledged_share=(len(leads) - len(known)) / len(leads) if leads else None,
    )
