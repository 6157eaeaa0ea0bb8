"""4b. The first ticks with the fit budget (analytics.fitting): after a deploy, a Redis flush, the first ever.

On bench 4's services and reports, each at its own minute after the stretch
(so each has a fresh per-minute budget of TREMOR_TICK_FITS fits):

- "warm": every profile the tick needs stored, in Redis too;
- "first after a Redis flush": read back from the database;
- "first after a deploy": every stored row relabelled with another version
  (a deploy that changes analytics.snapshots.profile_version) and Redis
  dropped: the tick fits its budget and scores every other service with its
  previous profiles; then, minute by minute, `fit_ahead` for its
  TREMOR_FIT_AHEAD_SECONDS and the tick, until every service's profiles are
  current again (in production `fit_ahead` runs beside the tick on another
  worker process; here one after the other, so each tick is timed alone);
- "first ever": nothing stored at all; services without profiles are not
  scored (they wait, their minutes caught up), then the same catch-up.

Each tick is judged against <= 10 s; the reference is the warm tick.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pandas as pd
import redis
from django.conf import settings

from analytics import fitting, profiles
from analytics.core.detection import TREMOR_CONFIG
from analytics.models import ProfileSnapshot, ServiceStatus
from analytics.snapshots import profile_version, snapshot_index

from .lib.results import Figure, figure

MAX_CATCH_UP_MINUTES = 15


def _drop_redis() -> None:
    """Every cached profile, claim and budget, as a Redis flush would drop them (not the Celery queues)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    for pattern in ("*:profiles:*", "*:profiles-fitting:*", "*:profiles-budget:*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)


def _stale(service_ids: list[int], end) -> int:
    """Window points of the tick at `end` not stored for this version."""
    version = profile_version(TREMOR_CONFIG)
    stored = {(s, at) for s, at, v in snapshot_index(service_ids=service_ids) if v == version}
    return sum(point not in stored for s in service_ids for point in profiles.window_points(service_id=s, end=end))


def _evaluated(service_ids: list[int], minute) -> int:
    return ServiceStatus.objects.filter(service_id__in=service_ids, evaluated_at__gte=minute).count()


def _catch_up(service_ids, *, minute, tick) -> tuple[int, float, float]:
    """(minutes until every service is current and evaluated, worst tick, fit_ahead seconds) from `minute` on."""
    worst, fitting_s = 0.0, 0.0
    for k in range(1, MAX_CATCH_UP_MINUTES + 1):
        now = minute + timedelta(minutes=k, seconds=5)
        started = time.perf_counter()
        fitting.fit_ahead(now=now, seconds=settings.TREMOR_FIT_AHEAD_SECONDS, service_ids=service_ids)
        fitting_s += time.perf_counter() - started
        worst = max(worst, tick(service_ids, now=now))
        end = now.replace(second=0)
        if not _stale(service_ids, end) and _evaluated(service_ids, end - timedelta(minutes=1)) == len(service_ids):
            return k, worst, fitting_s
    return MAX_CATCH_UP_MINUTES + 1, worst, fitting_s


def run(n: int, service_ids: list[int], *, start, tick, rewind) -> list[Figure]:
    """The first ticks of `service_ids` from minute `start` on; `tick(ids, now=...)` runs and times one."""
    name = f"tick.budgeted.services_{n}"
    minute = pd.Timestamp(start)
    # Everything stored for this version first (fit_ahead without a time limit), then warm.
    fitting.fit_ahead(now=minute + timedelta(seconds=5), seconds=float("inf"), service_ids=service_ids)
    rewind(service_ids, now=minute)
    tick(service_ids, now=minute + timedelta(seconds=5))
    minute += timedelta(minutes=1)
    cpu = time.process_time()
    warm = tick(service_ids, now=minute + timedelta(seconds=5))
    warm_cpu = time.process_time() - cpu

    _drop_redis()
    minute += timedelta(minutes=1)
    flushed = tick(service_ids, now=minute + timedelta(seconds=5))

    ProfileSnapshot.objects.filter(service_id__in=service_ids).update(version="bench-previous")
    _drop_redis()
    minute += timedelta(minutes=1)
    cpu = time.process_time()
    deployed = tick(service_ids, now=minute + timedelta(seconds=5))
    deployed_cpu = time.process_time() - cpu
    deployed_evaluated = _evaluated(service_ids, minute - timedelta(minutes=1))
    deployed_stale = _stale(service_ids, minute)
    deploy_minutes, deploy_worst, deploy_fitting = _catch_up(service_ids, minute=minute, tick=tick)
    minute += timedelta(minutes=deploy_minutes)

    ProfileSnapshot.objects.filter(service_id__in=service_ids).delete()
    _drop_redis()
    minute += timedelta(minutes=1)
    first = tick(service_ids, now=minute + timedelta(seconds=5))
    first_evaluated = _evaluated(service_ids, minute - timedelta(minutes=1))
    first_minutes, first_worst, first_fitting = _catch_up(service_ids, minute=minute, tick=tick)

    budget = settings.TREMOR_TICK_FITS
    print(
        f"tick (budget {budget} fits a minute): {n:,} services: warm {warm:.2f} s ({warm_cpu:.2f} s CPU),"
        f" after a Redis flush {flushed:.2f} s, first after a deploy {deployed:.2f} s ({deployed_cpu:.2f} s CPU,"
        f" {deployed_evaluated:,} evaluated, {deployed_stale:,} points on stand-ins), current again after"
        f" {deploy_minutes} min (worst tick {deploy_worst:.2f} s, fit_ahead {deploy_fitting:.0f} s); first ever"
        f" {first:.2f} s ({first_evaluated:,} evaluated), all caught up after {first_minutes} min"
        f" (worst tick {first_worst:.2f} s, fit_ahead {first_fitting:.0f} s)",
        flush=True,
    )
    return [
        figure(f"{name}.warm_s", warm, "s", reference=warm, target="<= 10 s"),
        # CPU seconds of this process (not PostgreSQL's): what the wall time is on a machine shared with others.
        figure(f"{name}.warm_cpu_s", warm_cpu, "s"),
        figure(f"{name}.first_after_flush_s", flushed, "s", reference=warm, target="<= 10 s"),
        figure(f"{name}.first_after_deploy_s", deployed, "s", reference=warm, target="<= 10 s"),
        figure(f"{name}.first_after_deploy_cpu_s", deployed_cpu, "s", reference=warm_cpu),
        figure(f"{name}.first_after_deploy_evaluated", deployed_evaluated, "services", reference=n),
        figure(f"{name}.first_after_deploy_stand_in_points", deployed_stale, "points"),
        figure(f"{name}.after_deploy_current_after_min", deploy_minutes, "min"),
        figure(f"{name}.after_deploy_worst_s", deploy_worst, "s", reference=warm, target="<= 10 s"),
        figure(f"{name}.after_deploy_fit_ahead_s", deploy_fitting, "s"),
        figure(f"{name}.first_ever_s", first, "s", reference=warm, target="<= 10 s"),
        figure(f"{name}.first_ever_evaluated", first_evaluated, "services", reference=n),
        figure(f"{name}.first_ever_caught_up_after_min", first_minutes, "min"),
        figure(f"{name}.first_ever_worst_s", first_worst, "s", reference=warm, target="<= 10 s"),
    ]
