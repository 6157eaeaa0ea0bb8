"""The profile store: each service's fitted baseline profiles per refit point.

A service's profiles are fitted once per point of its refit grid
(analytics.core.refit), from the history before that point, then kept in
Redis and in the database (analytics.snapshots) so that neither a new tick
nor a Redis flush fits them again. The tick scores with them; the chart band
(analytics.band) draws them, so both show the same baseline.
"""

import logging
import pickle
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.core.cache import cache

from .core.baseline import time_slots
from .core.detection import TREMOR_CONFIG, DetectorConfig, fit_at, fit_buckets, profile_flags
from .core.refit import frame_start, grid_point, refit_offset
from .core.scoring import ONSET_LOOKBACK_MINUTES
from .core.slices import slice_matrix
from .selectors import first_report_at, slice_rows
from .snapshots import profile_version, snapshot_blobs, snapshot_save

log = logging.getLogger(__name__)

# Minutes scored per tick: the onset search reaches this far back, and it
# covers the longest window plus its confirmation.
WINDOW = ONSET_LOOKBACK_MINUTES


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
        log.warning("profiles: could not read stored profiles", exc_info=True)
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
        log.warning("profiles: could not store profiles of service %s", service_id, exc_info=True)
    return grid


def _unpickled(blob: bytes | None, *, point: Point, source: str) -> GridProfiles | None:
    if blob is None:
        return None
    try:
        grid = pickle.loads(blob)
    except Exception:  # truncated or from incompatible code despite the version: fit again
        log.warning("profiles: unreadable profiles of service %s at %s in %s", *point, source, exc_info=True)
        return None
    if not isinstance(grid, GridProfiles) or grid.at != point[1]:
        log.warning("profiles: profiles of service %s at %s in %s are not its own", *point, source)
        return None
    return grid


def _cache_set_many(blobs: dict[str, bytes], timeout: int) -> None:
    if not blobs:
        return
    try:
        cache.set_many(blobs, timeout=timeout)
    except Exception:
        log.warning("profiles: could not cache profiles", exc_info=True)
