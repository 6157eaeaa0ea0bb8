"""The live detection tick: every minute, for every active service, what the replay would say.

Per service it scores the last `WINDOW` minutes against the profiles of the
service's 6-hour refit grid (analytics.profiles), then steps the incident
lifecycle (analytics.core.lifecycle.step_minute, the replay's own) through
every minute not evaluated yet, and saves the incident (analytics.incidents).
"""

import logging
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone

from .core.baseline import time_slots
from .core.detection import TREMOR_CONFIG, DetectorConfig, evidence_shift, score_arrays
from .core.levels import NORMAL
from .core.lifecycle import OPENED, LifecycleConfig, step_minute
from .core.scoring import Scored
from .core.slices import TOTAL, slice_matrix
from .fitting import tick_profiles
from .incidents import grouping_batch, lifecycle_config, save_state, state_of
from .models import Incident, ServiceStatus
from .profiles import WINDOW, GridProfiles, Point, grid_profiles, window_points
from .selectors import slice_rows

log = logging.getLogger(__name__)

# After downtime, at most this many missed minutes are caught up per tick.
MAX_CATCH_UP = 55


def score_window(
    *,
    service_id: int,
    rows: pd.DataFrame,
    end: pd.Timestamp,
    config: DetectorConfig = TREMOR_CONFIG,
    profiles: dict[Point, GridProfiles] | None = None,
) -> Scored:
    """Score the last WINDOW minutes before `end` with the grid profiles in force at each minute.

    `profiles`: grid_profiles of the window's points, when the caller read a batch's at once.
    """
    start = end - pd.Timedelta(minutes=WINDOW)
    points = window_points(service_id=service_id, end=end, config=config)
    known = profiles or {}
    missing = [point for point in points if point not in known]
    fetched = grid_profiles(points=missing, config=config) if missing else {}
    grids = {at: known[(s, at)] if (s, at) in known else fetched[(s, at)] for s, at in points}
    keys = sorted(set().union(*(g.profiles for g in grids.values())) | {TOTAL})
    matrix = slice_matrix(rows, start=start, end=end, keys=keys)[keys]
    index = matrix.index
    tod, dow = time_slots(index, config.slot_minutes)
    n_win = len(config.windows_minutes)
    expected = np.zeros((len(keys), len(index)))
    alpha = np.full((n_win, len(keys), len(index)), config.max_dispersion)
    shift = np.zeros((n_win, len(keys), len(index)))
    warm = np.ones((len(keys), len(index)), dtype=bool)
    ratio = np.full((len(keys), len(index)), config.min_ratio)
    for at, grid in grids.items():
        cols = (index >= at) & (index < at + pd.Timedelta(minutes=config.refit_minutes))
        for i, key in enumerate(keys):
            if key not in grid.profiles and grid.unseen is None:
                continue  # the service had no history at all then: warm, like the replay
            prof, is_warm, min_ratio = grid.profiles.get(key, grid.unseen)
            expected[i, cols] = prof.expected_for_slots(tod[cols], dow[cols], 1.0)
            alpha[:, i, cols] = prof.alpha[:, None]
            shift[:, i, cols] = evidence_shift(prof, config)[:, None]
            warm[i, cols], ratio[i, cols] = is_warm, min_ratio
    counts = matrix.to_numpy(float).T
    result = score_arrays(index, keys, counts, expected, alpha, warm, ratio, config, 1.0, with_upper=False, shift=shift)
    return Scored(
        index=index, keys=keys, counts=counts.T, expected=expected.T, level=result.level.T,
        evidence=result.evidence.T, elevated=result.elevated.T,
    )  # fmt: skip


def _open_incident(service_id: int, minute: pd.Timestamp, lifecycle: LifecycleConfig) -> Incident | None:
    """The incident a new minute may continue: ongoing, or resolved within the merge gap."""
    recent = Incident.objects.filter(service_id=service_id).order_by("-started_at").first()
    if recent is None or recent.status == Incident.Status.ONGOING:
        return recent
    return recent if recent.ended_at and minute - pd.Timestamp(recent.ended_at) <= lifecycle.merge_gap else None


def tick_service(
    *,
    service_id: int,
    rows: pd.DataFrame,
    now: datetime,
    config: DetectorConfig = TREMOR_CONFIG,
    lifecycle: LifecycleConfig | None = None,
    profiles: dict[Point, GridProfiles] | None = None,
) -> int:
    """Evaluate the closed minutes not evaluated yet; returns how many were evaluated."""
    lifecycle = lifecycle or lifecycle_config()
    end = pd.Timestamp(now).floor("1min")  # minutes before `end` are closed
    scored = score_window(service_id=service_id, rows=rows, end=end, config=config, profiles=profiles)
    with transaction.atomic():
        status, _ = ServiceStatus.objects.select_for_update().get_or_create(service_id=service_id)
        last = pd.Timestamp(status.evaluated_at) if status.evaluated_at else end - pd.Timedelta(minutes=2)
        first_row = max(int(scored.index.searchsorted(last, side="right")), len(scored.index) - MAX_CATCH_UP)
        if first_row >= len(scored.index):
            return 0  # another worker evaluated these minutes already
        incident = _open_incident(service_id, scored.index[first_row], lifecycle)
        state = state_of(incident) if incident is not None else None
        events: list[str] = []
        for row in range(first_row, len(scored.index)):
            before = state
            state, new = step_minute(state, scored, row, lifecycle)
            if OPENED in new and before is not None and incident is not None:
                incident = None  # a new incident, not a continuation of the old one
                events = []
            events += new
        if state is not None and (events or state.ongoing):
            incident = save_state(service_id=service_id, state=state, incident=incident, events=events)
        status.level = int(scored.level[-1].max()) if scored.keys else NORMAL
        status.incident = incident if incident is not None and incident.status == Incident.Status.ONGOING else None
        status.evaluated_at = scored.index[-1].to_pydatetime()
        status.save()
    return len(scored.index) - first_row


def run_tick(*, service_ids: list[int], now: datetime | None = None) -> int:
    """One tick for a batch of services: one query for their recent counts, their profiles, then each service."""
    now = now or timezone.now()
    end = pd.Timestamp(now).floor("1min")
    rows = slice_rows(service_ids=service_ids, start=end - timedelta(minutes=WINDOW), end=end)
    by_service = dict(tuple(rows.groupby("service_id"))) if len(rows) else {}
    # The batch's stored profiles in one Redis round trip (after a flush, one query); what is
    # missing is fitted within the minute's budget, else scored with a stand-in (analytics.fitting).
    points = [point for s in service_ids for point in window_points(service_id=s, end=end)]
    profiles = tick_profiles(points=points, end=end)
    evaluated = 0
    # The widespread grouping of the incidents the batch opens or resolves: once, after every service.
    with grouping_batch():
        for service_id in service_ids:
            if service_id in profiles.waiting:
                continue  # no profiles at all yet: its minutes are caught up once fitted
            mine = by_service.get(service_id, rows.iloc[:0])
            try:
                evaluated += tick_service(service_id=service_id, rows=mine, now=now, profiles=profiles.found)
            except Exception:
                if service_id not in profiles.stale:
                    raise
                # Profiles fitted by older code that this code cannot score with: wait for the refit.
                log.warning("tick: service %s could not be scored with its previous profiles", service_id,
                            exc_info=True)  # fmt: skip
    return evaluated
