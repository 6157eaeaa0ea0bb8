"""Replay: detection minute by minute over a time range, as live operation would have run it.

The per-minute decisions come from `detect_frame` over the whole range at once
(vectorised, refitting on the service's own 6-hour grid, as the live tick
does), and the incident lifecycle steps through the minutes with the same
`step_minute` the live tick calls.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from django.db import transaction
from django.utils import timezone

from .core.detection import TREMOR_CONFIG, DetectorConfig
from .core.lifecycle import incidents_over
from .core.refit import frame_start, refit_offset
from .core.scoring import Scored, score_frame
from .core.slices import slice_matrix
from .incidents import lifecycle_config, save_state
from .models import Incident, ServiceStatus
from .selectors import first_report_at, slice_rows


def score_service(
    *, service_id: int, start: datetime, end: datetime, config: DetectorConfig = TREMOR_CONFIG
) -> tuple[Scored, int]:
    """Detector output for [start, end) with its history; returns (scored, row of `start`)."""
    since = pd.Timestamp(start) - timedelta(hours=2)
    offset = refit_offset(service_id, config)
    first = frame_start(since, config, first_data=first_report_at(service_id=service_id), offset=offset)
    stop = pd.Timestamp(end).ceil("1min")
    rows = slice_rows(service_ids=[service_id], start=first, end=stop)
    matrix = slice_matrix(rows, start=first, end=stop)
    # Fits start a little before `start` so that every window scored from
    # `start` on sees fitted baselines, exactly as the live tick would.
    scored = score_frame(matrix, since=since, config=config)
    return scored, int(scored.index.searchsorted(pd.Timestamp(start).floor("1min")))


@dataclass(frozen=True)
class ReplayResult:
    incidents: list[Incident]
    minutes: int
    last_minute: datetime | None  # the last minute evaluated, and the level then
    last_level: int


def replay_service(
    *,
    service_id: int,
    start: datetime,
    end: datetime,
    config: DetectorConfig = TREMOR_CONFIG,
    progress: Callable[[str], None] | None = None,
) -> ReplayResult:
    """Detect over [start, end) and store the incidents (replacing those a previous replay stored there)."""
    scored, from_row = score_service(service_id=service_id, start=start, end=end, config=config)
    states = incidents_over(scored, from_row=from_row, lifecycle=lifecycle_config())
    with transaction.atomic():
        Incident.objects.filter(service_id=service_id, started_at__gte=start, started_at__lt=end).delete()
        # Historical incidents: no webhook events for them.
        saved = [save_state(service_id=service_id, state=s, incident=None, events=[]) for s in states]
    if progress:
        progress(f"  {len(scored.keys)} series, {len(scored.index) - from_row:,} minutes, {len(saved)} incident(s)")
    last = len(scored.index) - 1
    return ReplayResult(
        incidents=saved,
        minutes=len(scored.index) - from_row,
        last_minute=scored.index[last].to_pydatetime() if last >= 0 else None,
        last_level=int(scored.level[last].max()) if last >= 0 and scored.keys else 0,
    )


# A replay whose last minute is this close to now reached the present: the live tick takes over from it.
PRESENT = timedelta(minutes=5)


def status_after_replay(*, service_id: int, result: ReplayResult, now: datetime | None = None) -> bool:
    """Leave the service's current status as the tick would have: the replay's last verdict and its
    ongoing incident. Only when the replay reached the present, and never behind a live tick's."""
    now = now or timezone.now()
    if result.last_minute is None or result.last_minute < now - PRESENT:
        return False
    ongoing = [i for i in result.incidents if i.status == Incident.Status.ONGOING]
    with transaction.atomic():
        status, _ = ServiceStatus.objects.select_for_update().get_or_create(service_id=service_id)
        if status.evaluated_at is not None and status.evaluated_at > result.last_minute:
            return False
        status.level = result.last_level
        status.evaluated_at = result.last_minute
        status.incident = ongoing[-1] if ongoing else None
        status.save()
    return True
