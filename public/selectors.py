"""Reads for the journalists' pages: windows, series with their baseline band, incidents, status.

Everything here reads buckets (minute buckets, hourly roll-ups on the database side for
long ranges) through `analytics.selectors`, the band through `analytics.band`; charts and
sentences are built from the result by the pure functions in `charts.py` and `summary.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from django.db.models import Q
from django.utils import timezone

from analytics import selectors as counts
from analytics.band import baseline_band
from analytics.models import Incident, Level, ServiceStatus
from analytics.serializers import IncidentSerializer
from reports.models import Report, Service


@dataclass(frozen=True)
class Window:
    key: str
    start: datetime
    end: datetime
    interval: str


# Range key -> (span, bucket interval). 30 days per 15 minutes would be 2,880 points.
RANGES: dict[str, tuple[timedelta, str]] = {
    "24h": (timedelta(hours=24), "15m"),
    "7d": (timedelta(days=7), "1h"),
    "30d": (timedelta(days=30), "1h"),
}
DEFAULT_RANGE = "24h"
BREAKDOWNS = ("region", "code", "feature")


def window(key: str | None, *, now: datetime | None = None) -> Window:
    key = key if key in RANGES else DEFAULT_RANGE
    span, interval = RANGES[key]
    # Whole minutes: every request within a minute sees the same buckets.
    end = (now or timezone.now()).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return Window(key=key, start=end - span, end=end, interval=interval)


def incident_window(incident: Incident, *, now: datetime | None = None) -> Window:
    """The incident with a few hours of normal before and after, so the baseline shows."""
    now = now or timezone.now()
    end = min((incident.ended_at or now) + timedelta(hours=3), now)
    start = incident.started_at - timedelta(hours=3)
    interval = "15m" if end - start <= timedelta(days=2) else "1h"
    return Window(
        key="incident", start=start, end=end.replace(second=0, microsecond=0) + timedelta(minutes=1), interval=interval
    )


def series(*, service_id: int, win: Window) -> pd.Series:
    return counts.rolled_timeseries(service_id=service_id, start=win.start, end=win.end, interval=win.interval)


def series_by_service(*, service_ids: list[int], win: Window) -> dict[int, pd.Series]:
    return counts.rolled_timeseries_by_service(
        service_ids=service_ids, start=win.start, end=win.end, interval=win.interval
    )


def band(*, service_id: int, win: Window) -> pd.DataFrame | None:
    """The normal band (`expected`, `upper`) per bucket from the detector's baseline."""
    return baseline_band(service_id=service_id, start=win.start, end=win.end, interval=win.interval)


def incidents_between(*, service_id: int, start: datetime, end: datetime) -> list[dict]:
    rows = Incident.objects.filter(service_id=service_id, started_at__lt=end).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gte=start)
    )
    return list(IncidentSerializer(rows.select_related("service"), many=True).data)


def recent_incidents(*, service_id: int, limit: int = 10) -> list[Incident]:
    return list(Incident.objects.filter(service_id=service_id).order_by("-started_at")[:limit])


def status(service: Service) -> tuple[int, dict | None]:
    """The detector's level and the ongoing incident (serialized), if any."""
    row = ServiceStatus.objects.filter(service=service).select_related("incident__service").first()
    level = int(row.level) if row is not None else Level.NORMAL
    incident = row.incident if row is not None and row.incident is not None else None
    if incident is None:
        incident = Incident.objects.filter(service=service, status=Incident.Status.ONGOING).first()
    return level, (IncidentSerializer(incident).data if incident is not None else None)


def recent_counts(service_id: int) -> dict[str, int]:
    """Reports in the last hour and 24 hours of one service (the home page counts all at once)."""
    now = timezone.now()
    return {
        "reports_last_hour": counts.total_count(start=now - timedelta(hours=1), end=now, service_id=service_id),
        "reports_last_24h": counts.total_count(start=now - timedelta(hours=24), end=now, service_id=service_id),
    }


def levels(service_ids: list[int]) -> dict[int, int]:
    return dict(ServiceStatus.objects.filter(service_id__in=service_ids).values_list("service_id", "level"))


def feature_names(service: Service) -> dict[str, str]:
    return dict(service.features.values_list("slug", "name"))


def recent_comments(*, service_id: int, limit: int = 8) -> list[dict]:
    # The (service, observed_at) index bounds this to the newest day of one service.
    since = timezone.now() - timedelta(hours=24)
    rows = (
        Report.objects.filter(service_id=service_id, observed_at__gte=since)
        .exclude(comment="")
        .order_by("-observed_at")
        .values("comment", "observed_at", "country", "code")[:limit]
    )
    return list(rows)


COUNT_WINDOWS = {"reports_last_hour": timedelta(hours=1), "reports_last_24h": timedelta(hours=24)}


def services_with_counts(*, services=None) -> list[dict]:
    """Active services with their report counts, most reports in the last hour first."""
    now = timezone.now()
    services = list(services if services is not None else Service.objects.filter(active=True))
    windows = {name: counts.counts_by_service(start=now - span, end=now) for name, span in COUNT_WINDOWS.items()}
    rows = [{"service": s, **{name: n.get(s.id, 0) for name, n in windows.items()}} for s in services]
    rows.sort(key=lambda row: (-row["reports_last_hour"], row["service"].name))
    return rows


def current_status(*, service_id: int):
    """(level name, ongoing Incident or None) as the last detection tick left them."""
    status = ServiceStatus.objects.filter(service_id=service_id).first()
    level = Level(status.level).label if status else Level.NORMAL.label
    incident = (
        Incident.objects.select_related("service").filter(service_id=service_id, status=Incident.Status.ONGOING).first()
    )
    return level, incident
