"""Demo data for `./tremor up`: tesla with two ordinary weeks and the 14 Feb 2023 outage in the last day,
and a fleet of 40 services with a widespread outage going on (demo.fleet)."""

from collections.abc import Callable
from datetime import datetime, timedelta

from analytics.bucketing import bucket_range
from analytics.replay import replay_service, status_after_replay
from official.models import Source
from official.services import source_set
from reports.imports import import_rows
from reports.models import Service
from reports.services import service_create

from . import scenarios
from .fleet import load_fleet
from .official_page import demo_source_url

SERVICE = "tesla"


def load_demo(*, now: datetime, reset: bool = False, progress: Callable[[str], None] = print) -> int:
    """Load the demo stream ending at `now`; returns the number of reports (0 if already loaded)."""
    existing = Service.objects.filter(slug=SERVICE).first()
    if existing is not None and not reset:
        progress(f"demo: service {SERVICE!r} exists, keeping it (seed_demo --reset reloads it)")
        if not Source.objects.filter(service=existing).exists():
            _official_source(existing, progress)
        return load_fleet(now=now, progress=progress)
    if existing is not None:
        existing.delete()
    service_create(slug=SERVICE, name="Tesla", homepage_url="https://www.tesla.com", features=scenarios.TESLA_FEATURES)
    frame = scenarios.demo_stream(now=now, service=SERVICE)
    rows = frame[scenarios.CSV_COLUMNS].to_dict("records")
    progress(f"demo: storing {len(rows):,} reports from {rows[0]['observed_at']:%Y-%m-%d %H:%M} UTC to now")
    result = import_rows(rows)
    written = bucket_range(start=result.start, end=result.end, services=[SERVICE])
    progress(f"demo: {written:,} minute buckets written")
    # Detection over the last two days, as the live tick would have run it;
    # the tick takes over from the last minute.
    service_id = Service.objects.get(slug=SERVICE).id
    replayed = replay_service(service_id=service_id, start=now - timedelta(days=2), end=now)
    status_after_replay(service_id=service_id, result=replayed, now=now)
    progress(f"demo: detection replayed over the last two days: {len(replayed.incidents)} incident(s)")
    _official_source(Service.objects.get(pk=service_id), progress)
    return result.rows + load_fleet(now=now, progress=progress)


def _official_source(service: Service, progress: Callable[[str], None]) -> None:
    # Polled by beat from the web process's demo page (demo.official_page), which acknowledges late.
    url = demo_source_url()
    source_set(service=service, kind=Source.Kind.STATUSPAGE, url=url)
    progress(f"demo: official status page of {service.slug}: {url}/api/v2/summary.json")
