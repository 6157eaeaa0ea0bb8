"""The live detection tick: every minute, for every active service, what the replay would say.

Per service it scores the last `WINDOW` minutes against the profiles of the
service's 6-hour refit grid (analytics.refit: fitted once per grid point,
cached in Redis and kept in the database, analytics.snapshots), then steps
the incident lifecycle through every minute not evaluated yet. The profiles,
the scoring (`_scored`) and the lifecycle (`step_minute`) are the replay's own.
"""

import logging
import pickle
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from .baseline import time_slots
from .detection import TREMOR_CONFIG, DetectorConfig, _scored, fit_at, fit_buckets, profile_flags
from .incidents import lifecycle_config, save_state, state_of
from .lifecycle import LifecycleConfig
from .models import Incident, Level, ServiceStatus
from .refit import grid_point, refit_offset
from .replay import frame_start
from .selectors import first_report_at, slice_rows
from .slices import slice_matrix
from .snapshots import profile_version, snapshot_blobs, snapshot_save
from .verdicts import ONSET_LOOKBACK_MINUTES, Scored, step_minute

log = logging.getLogger(__name__)

# Minutes scored per tick: the onset search reaches this far back, and it
# covers the longest window plus its confirmation.
WINDOW = ONSET_LOOKBACK_MINUTES
# After downtime, at most this many missed minutes are caught up per tick.
MAX_CATCH_UP = 55


@dataclass(frozen=True)
class GridProfiles:
    """Profiles of one service's series at one refit point."""

    at: pd.Timestamp
    profiles: dict  # key -> (Profile, warm, min_ratio)
    # For a slice first seen after `at`: the replay fits it on zeros over the
    # same history, so the tick does the same.
    unseen: tuple | None = None


def fit_service(*, service_id: int, at: pd.Timestamp, config: DetectorConfig = TREMOR_CONFIG) -> GridProfiles:
    """Fit every series of the service at refit point `at` from the history before it."""
    first_data = first_report_at(service_id=service_id)
    first = frame_start(at, config, first_data=first_data, offset=refit_offset(service_id, config))
    first = max(first, at - pd.Timedelta(days=config.history_days))
    if first_data is None or first >= at:  # history starts with the first report
        return GridProfiles(at=at, profiles={}, unseen=None)
    rows = slice_rows(service_ids=[service_id], start=first, end=at)
    matrix = slice_matrix(rows, start=first, end=at)
    minutes = np.arange(len(matrix.index), dtype=float)
    tod, dow = time_slots(matrix.index, config.slot_minutes)
    t_fit = float(len(matrix.index))

    def fit(values: np.ndarray) -> tuple:
        b = fit_buckets(values, minutes, tod, dow, config=config, step=1.0)
        prof = fit_at(b, t_fit, config=config)
        return (prof, *profile_flags(prof, b.fit_step, config))

    profiles = {key: fit(matrix[key].to_numpy(float)) for key in matrix.columns}
    return GridProfiles(at=at, profiles=profiles, unseen=fit(np.zeros(len(matrix.index))))


Point = tuple[int, pd.Timestamp]  # (service id, refit point)


def grid_profiles(
    *, points: list[Point], config: DetectorConfig = TREMOR_CONFIG, fit: bool = True
) -> dict[Point, GridProfiles]:
    """Profiles of each (service, refit point): from Redis, else the database, else fitted.

    One Redis round trip and one query for the whole list, then a fit for
    each point found in neither (unless `fit` is false: then it is left out).
    What the database gives back is put into Redis again; what is fitted is
    stored in both.
    """
    version = profile_version(config)
    timeout = int(2.5 * config.refit_minutes * 60)
    keys = {point: f"profiles:{version}:{point[0]}:{point[1].isoformat()}" for point in dict.fromkeys(points)}
    try:
        cached = cache.get_many(list(keys.values()))
    except Exception:  # Redis down: the database, or fit again; slower but correct
        cached = {}
    found = {}
    for point, key in keys.items():
        if (grid := _unpickled(cached.get(key), point=point, source="Redis")) is not None:
            found[point] = grid
    missing = [point for point in keys if point not in found]
    try:
        stored = snapshot_blobs(points=missing, version=version) if missing else {}
    except Exception:
        log.warning("tick: could not read stored profiles", exc_info=True)
        stored = {}
    restored = {}
    for point in missing:
        if (grid := _unpickled(stored.get(point), point=point, source="the database")) is not None:
            found[point], restored[keys[point]] = grid, stored[point]
    _cache_set_many(restored, timeout)
    for point in missing if fit else ():
        if point not in found:
            found[point] = _fit_and_store(point, key=keys[point], version=version, config=config,
                                          unreadable=point in stored, timeout=timeout)  # fmt: skip
    return found


def cached_profiles(*, service_id: int, at: pd.Timestamp, config: DetectorConfig = TREMOR_CONFIG) -> GridProfiles:
    """The service's profiles at refit point `at` (grid_profiles for one point)."""
    return grid_profiles(points=[(service_id, at)], config=config)[(service_id, at)]


def window_points(*, service_id: int, end: pd.Timestamp, config: DetectorConfig = TREMOR_CONFIG) -> list[Point]:
    """The refit points whose profiles score the WINDOW minutes before `end`."""
    offset = refit_offset(service_id, config)
    first, last = end - pd.Timedelta(minutes=WINDOW), end - pd.Timedelta(minutes=1)
    return [(service_id, at) for at in sorted({grid_point(first, config, offset), grid_point(last, config, offset)})]


def _fit_and_store(
    point: Point, *, key: str, version: str, config: DetectorConfig, unreadable: bool, timeout: int
) -> GridProfiles:
    service_id, at = point
    grid = fit_service(service_id=service_id, at=at, config=config)
    blob = pickle.dumps(grid)
    _cache_set_many({key: blob}, timeout)
    try:
        keep = pd.Timedelta(minutes=config.refit_minutes)
        snapshot_save(service_id=service_id, at=at, version=version, blob=blob, keep=keep, replace=unreadable)
    except Exception:
        log.warning("tick: could not store profiles of service %s", service_id, exc_info=True)
    return grid


def _unpickled(blob: bytes | None, *, point: Point, source: str) -> GridProfiles | None:
    if blob is None:
        return None
    try:
        grid = pickle.loads(blob)
    except Exception:  # truncated or from incompatible code despite the version: fit again
        log.warning("tick: unreadable profiles of service %s at %s in %s", *point, source, exc_info=True)
        return None
    if not isinstance(grid, GridProfiles) or grid.at != point[1]:
        log.warning("tick: profiles of service %s at %s in %s are not its own", *point, source)
        return None
    return grid


def _cache_set_many(blobs: dict[str, bytes], timeout: int) -> None:
    if not blobs:
        return
    try:
        cache.set_many(blobs, timeout=timeout)
    except Exception:
        log.warning("tick: could not cache profiles", exc_info=True)


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
    keys = sorted(set().union(*(g.profiles for g in grids.values())) | {"total"})
    matrix = slice_matrix(rows, start=start, end=end, keys=keys)[keys]
    index = matrix.index
    tod, dow = time_slots(index, config.slot_minutes)
    n_win = len(config.windows_minutes)
    expected = np.zeros((len(keys), len(index)))
    alpha = np.full((n_win, len(keys), len(index)), config.max_dispersion)
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
            warm[i, cols], ratio[i, cols] = is_warm, min_ratio
    counts = matrix.to_numpy(float).T
    result = _scored(index, keys, counts, expected, alpha, warm, ratio, config, 1.0, with_upper=False)
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
            if "incident.opened" in new and before is not None and incident is not None:
                incident = None  # a new incident, not a continuation of the old one
                events = []
            events += new
        if state is not None and (events or state.ongoing):
            incident = save_state(service_id=service_id, state=state, incident=incident, events=events)
        status.level = int(scored.level[-1].max()) if scored.keys else Level.NORMAL
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
    # The batch's stored profiles in one Redis round trip (after a flush, one query), not one per
    # service; each service fits what is missing as before, in turn.
    points = [point for s in service_ids for point in window_points(service_id=s, end=end)]
    profiles = grid_profiles(points=points, fit=False)
    evaluated = 0
    for service_id in service_ids:
        mine = by_service.get(service_id, rows.iloc[:0])
        evaluated += tick_service(service_id=service_id, rows=mine, now=now, profiles=profiles)
    return evaluated
