"""The live detection tick: every minute, for every active service, what the replay would say.

Per service it scores the last `WINDOW` minutes against the profiles of the
service's 6-hour refit grid (analytics.profiles), then steps the incident
lifecycle (analytics.core.lifecycle.step_minute, the replay's own) through
every minute not evaluated yet, and saves the incident (analytics.incidents).
A batch of services (`run_tick`, one `detect_batch` task) commits once: its reads
and its status writes are one query each for the whole batch, not one per service.
"""

import logging
from datetime import datetime, timedelta
from functools import lru_cache

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
from .incidents import grouping_batch, lifecycle_config, locked_statuses, save_state, save_statuses, state_of
from .models import Incident, ServiceStatus
from .profiles import WINDOW, GridProfiles, Point, grid_profiles, window_points
from .selectors import latest_incidents, slice_rows

log = logging.getLogger(__name__)

# After downtime, at most this many missed minutes are caught up per tick.
MAX_CATCH_UP = 55


@lru_cache(maxsize=4)
def _slots(first: pd.Timestamp, minutes: int, slot_minutes: int) -> tuple[np.ndarray, np.ndarray]:
    """time_slots of a window's minutes: the same for every service of a batch, so computed once."""
    slots = time_slots(pd.date_range(first, periods=minutes, freq="1min"), slot_minutes)
    for array in slots:
        array.flags.writeable = False  # shared by every caller
    return slots


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
    matrix = slice_matrix(rows, start=start, end=end, keys=keys)
    index = matrix.index
    tod, dow = _slots(index[0], len(index), config.slot_minutes)
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
    counts = matrix.to_numpy(float)[:, matrix.columns.get_indexer(keys)].T  # the `keys` columns only
    result = score_arrays(index, keys, counts, expected, alpha, warm, ratio, config, 1.0, with_upper=False, shift=shift)
    return Scored(
        index=index, keys=keys, counts=counts.T, expected=expected.T, level=result.level.T,
        evidence=result.evidence.T, elevated=result.elevated.T,
    )  # fmt: skip


def _continued(recent: Incident | None, minute: pd.Timestamp, lifecycle: LifecycleConfig) -> Incident | None:
    """The incident a new minute may continue (of the service's latest): ongoing, or resolved within the merge gap."""
    if recent is None or recent.status == Incident.Status.ONGOING:
        return recent
    return recent if recent.ended_at and minute - pd.Timestamp(recent.ended_at) <= lifecycle.merge_gap else None


def tick_service(
    *,
    service_id: int,
    scored: Scored,
    end: pd.Timestamp,
    status: ServiceStatus,
    latest: Incident | None,
    lifecycle: LifecycleConfig,
) -> int:
    """Step the incident through the closed minutes not evaluated yet; returns how many were evaluated.

    Runs inside the batch's transaction, with `status` locked (analytics.incidents.locked_statuses)
    and `latest` the service's latest incident; saves the incident and sets `status`, which the
    caller writes with the others. Minutes before `end` are closed.
    """
    last = pd.Timestamp(status.evaluated_at) if status.evaluated_at else end - pd.Timedelta(minutes=2)
    first_row = max(int(scored.index.searchsorted(last, side="right")), len(scored.index) - MAX_CATCH_UP)
    if first_row >= len(scored.index):
        return 0  # another worker evaluated these minutes already
    incident = _continued(latest, scored.index[first_row], lifecycle)
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
        # A savepoint: a write that fails loses this service's minutes (evaluated again next
        # tick), never the batch's transaction with the other services' verdicts.
        with transaction.atomic():
            incident = save_state(service_id=service_id, state=state, incident=incident, events=events)
    status.level = int(scored.level[-1].max()) if scored.keys else NORMAL
    status.incident = incident if incident is not None and incident.status == Incident.Status.ONGOING else None
    status.evaluated_at = scored.index[-1].to_pydatetime()
    return len(scored.index) - first_row


def run_tick(*, service_ids: list[int], now: datetime | None = None) -> int:
    """One tick for a batch of services, in a number of queries that does not grow with the batch.

    One query for their recent counts and one Redis round trip for their profiles; each service
    scored; then one transaction: their statuses locked and their latest incidents read (a query
    each for all), each service's lifecycle stepped, the incidents that changed saved (one write
    each), every status written in one UPDATE. A service that fails is logged and left for the
    next tick; the others are committed, then the first failure is raised (unless it only came
    from scoring with stale profiles, which waits for the refit).
    """
    now = now or timezone.now()
    end = pd.Timestamp(now).floor("1min")
    rows = slice_rows(service_ids=service_ids, start=end - timedelta(minutes=WINDOW), end=end)
    by_service = dict(tuple(rows.groupby("service_id"))) if len(rows) else {}
    # The batch's stored profiles in one Redis round trip (after a flush, one query); what is
    # missing is fitted within the minute's budget, else scored with a stand-in (analytics.fitting).
    points = [point for s in service_ids for point in window_points(service_id=s, end=end)]
    profiles = tick_profiles(points=points, end=end)
    failures: list[Exception] = []

    def failed(service_id: int, exc: Exception) -> None:
        if service_id in profiles.stale:
            # Profiles fitted by older code that this code cannot score with: wait for the refit.
            log.warning("tick: service %s could not be scored with its previous profiles", service_id, exc_info=exc)
        else:
            log.error("tick: service %s failed; the others are saved", service_id, exc_info=exc)
            failures.append(exc)

    scored: dict[int, Scored] = {}
    for service_id in service_ids:
        if service_id in profiles.waiting:
            continue  # no profiles at all yet: its minutes are caught up once fitted
        mine = by_service.get(service_id, rows.iloc[:0])
        try:
            scored[service_id] = score_window(service_id=service_id, rows=mine, end=end, profiles=profiles.found)
        except Exception as exc:
            failed(service_id, exc)
    evaluated = 0
    lifecycle = lifecycle_config()
    # The widespread grouping of the incidents the batch opens or resolves: once, after the commit.
    with grouping_batch(), transaction.atomic():
        statuses = locked_statuses(service_ids=list(scored))
        latest = latest_incidents(service_ids=list(statuses))
        changed = []
        for service_id, one in scored.items():
            if service_id not in statuses:
                continue  # deleted since the batch was sent
            status = statuses[service_id]
            try:
                n = tick_service(service_id=service_id, scored=one, end=end, status=status,
                                 latest=latest.get(service_id), lifecycle=lifecycle)  # fmt: skip
            except Exception as exc:
                failed(service_id, exc)
                continue
            if n:
                evaluated += n
                changed.append(status)
        save_statuses(changed)
    if failures:
        raise failures[0]
    return evaluated
