"""When profiles are fitted: a bounded number per tick, the rest ahead of it, never a blind tick.

A fit costs ~70 ms per service (bench 4), so a tick that fitted every missing
profile took 70-90 s for 1,000 services after a deploy that changed the
profiles' version (analytics.snapshots), or on the first tick ever. Now:

- the tick fits at most TREMOR_TICK_FITS points per minute, across all its
  batches and workers (a counter in Redis), which covers the steady state:
  with staggered grids ~1/360 of the services reach a new refit point a minute;
- a service whose point is not fitted yet is scored with the profiles it had
  before (its previous point, or those an older version fitted, from the
  database) and fitted by a later tick or by `fit_ahead`;
- a service with no stored profiles at all is not scored that tick, with a
  log line; its minutes are not lost, the tick catches them up (up to
  analytics.tick.MAX_CATCH_UP) once its profiles are there. Scoring it with
  no baseline would be a guess presented as a verdict;
- `fit_ahead` (beat, every minute, analytics.tasks.fit_profiles_ahead) fits
  the points the ticks need that are not stored yet, services with nothing at
  all first, for a bounded time.

A claim in Redis per point keeps the tick and `fit_ahead` on several workers
from fitting the same point twice. The replay does not come here: it fits as
it goes (analytics.replay), never with stale profiles.
"""

import logging
import pickle
import time
from dataclasses import dataclass, field

import pandas as pd
from django.conf import settings
from django.core.cache import cache

from reports.models import Service

from .core.detection import TREMOR_CONFIG, DetectorConfig
from .profiles import GridProfiles, Point, grid_profiles, window_points
from .snapshots import profile_version, snapshot_fallbacks, snapshot_index

log = logging.getLogger(__name__)

# A claim outlives any single fit; a worker that dies mid-fit frees its points by then.
# Released once the point is stored (then it is read, not fitted).
CLAIM_SECONDS = 120


@dataclass
class TickProfiles:
    """The profiles a batch's tick scores with, and which services scored with stale ones or wait."""

    found: dict[Point, GridProfiles]
    stale: set[int] = field(default_factory=set)
    waiting: set[int] = field(default_factory=set)
    fitted: int = 0


def tick_profiles(*, points: list[Point], end: pd.Timestamp, config: DetectorConfig = TREMOR_CONFIG) -> TickProfiles:
    """The stored profiles of `points`; the missing ones fitted within the tick's budget, else stand-ins."""
    result = TickProfiles(found=grid_profiles(points=points, config=config, fit=False))
    missing = [point for point in points if point not in result.found]
    version = profile_version(config)
    budget = _Budget(version=version, minute=end, limit=settings.TREMOR_TICK_FITS)
    for point in missing:
        if not _claim(point, version=version):
            continue  # another worker (or fit_ahead) is fitting it: a stand-in meanwhile
        if not budget.take():
            _release(point, version=version)
            break
        try:
            result.found.update(grid_profiles(points=[point], config=config))
        finally:
            _release(point, version=version)  # stored: whoever looks next reads it
        result.fitted += 1
    unfitted = [point for point in missing if point not in result.found]
    stand_ins = _stand_ins(sorted({s for s, _ in unfitted}), version=version, config=config)
    for service_id, at in unfitted:
        if service_id in stand_ins:
            result.found[(service_id, at)] = stand_ins[service_id]
            result.stale.add(service_id)
        else:
            result.waiting.add(service_id)
    if result.waiting:
        log.warning(
            "tick: %d services have no profiles yet and are not scored this minute (caught up later): %s",
            len(result.waiting), sorted(result.waiting)[:10],
        )  # fmt: skip
    if result.stale:
        log.info("tick: %d services scored with their previous profiles until refitted", len(result.stale))
    return result


def fit_ahead(
    *, now: pd.Timestamp, seconds: float, config: DetectorConfig = TREMOR_CONFIG, service_ids: list[int] | None = None
) -> int:
    """Fit the points this minute's tick needs that are not stored yet, for at most `seconds`; returns how many."""
    started = time.monotonic()
    end = pd.Timestamp(now).floor("1min")
    if service_ids is None:
        service_ids = list(Service.objects.filter(active=True).order_by("id").values_list("id", flat=True))
    version = profile_version(config)
    stored = snapshot_index(service_ids=service_ids)
    present = {(s, at) for s, at, v in stored if v == version}
    known = {s for s, _, _ in stored}
    points = [point for s in service_ids for point in window_points(service_id=s, end=end, config=config)]
    # Services with nothing stored are not scored at all until fitted: those first.
    missing = sorted((point for point in points if point not in present), key=lambda point: point[0] in known)
    fitted = 0
    for k, point in enumerate(missing):
        if _claim(point, version=version):
            try:
                grid_profiles(points=[point], config=config)  # fits and stores, unless stored meanwhile
            finally:
                _release(point, version=version)
            fitted += 1
        if time.monotonic() - started > seconds and k + 1 < len(missing):
            log.info("fit_ahead: %d of %d missing points fitted, the rest at the next run", fitted, len(missing))
            break
    return fitted


def _stand_ins(service_ids: list[int], *, version: str, config: DetectorConfig) -> dict[int, GridProfiles]:
    """For each service, the best stored profiles this code can score with (analytics.snapshots)."""
    if not service_ids:
        return {}
    try:
        blobs = snapshot_fallbacks(service_ids=service_ids, version=version)
    except Exception:
        log.warning("tick: could not read the previous profiles", exc_info=True)
        return {}
    found = {}
    for service_id, candidates in blobs.items():
        for blob in candidates:
            try:
                grid = pickle.loads(blob)
            except Exception:  # pickled by other code: the next candidate
                continue
            if _usable(grid, config):
                found[service_id] = grid
                break
    return found


def _usable(grid: object, config: DetectorConfig) -> bool:
    """Profiles an older version fitted still have the shapes this config scores with."""
    if not isinstance(grid, GridProfiles):
        return False
    entries = [*grid.profiles.values(), *([grid.unseen] if grid.unseen is not None else [])]
    n_tod = 24 * 60 // int(config.slot_minutes)
    try:
        return all(
            prof.slot_minutes == config.slot_minutes
            and len(prof.tod_rate) == n_tod
            and len(prof.dow_factor) == 7
            and len(prof.alpha) == len(config.windows_minutes)
            for prof, _, _ in entries
        )
    except (AttributeError, TypeError, ValueError):
        return False


def _claim_key(point: Point, version: str) -> str:
    return f"profiles-fitting:{version}:{point[0]}:{point[1].isoformat()}"


def _claim(point: Point, *, version: str) -> bool:
    try:
        return bool(cache.add(_claim_key(point, version), 1, timeout=CLAIM_SECONDS))
    except Exception:  # Redis down: no claims; two workers may fit the same point, both store it
        return True


def _release(point: Point, *, version: str) -> None:
    try:
        cache.delete(_claim_key(point, version))
    except Exception:
        log.debug("profiles: could not release a claim", exc_info=True)


class _Budget:
    """The fits one tick minute may still do, shared by every batch and worker through Redis."""

    def __init__(self, *, version: str, minute: pd.Timestamp, limit: int) -> None:
        self.key = f"profiles-budget:{version}:{minute.isoformat()}"
        self.limit = limit
        self.local = 0  # when Redis is down: the limit per batch

    def take(self) -> bool:
        if self.limit <= 0:
            return False
        try:
            cache.add(self.key, 0, timeout=300)
            return cache.incr(self.key) <= self.limit
        except Exception:
            self.local += 1
            return self.local <= self.limit
