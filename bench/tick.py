"""4. Detection tick: seconds per tick over N services, how it scales, and spread over Celery workers.

Each service gets `DAYS` of ordinary reports (COPY, then bucketed). A tick is
`analytics.tick.run_tick` over batches of TREMOR_TICK_BATCH services, as the
`detect_batch` tasks run it. Per size, minute by minute across the last former
refit boundary B (00/06/12/18 UTC, when every service used to refit at once):

- "cold": the tick at B - BEFORE with no profiles stored anywhere (the
  first tick ever, or after a deploy that changes the profiles' version,
  analytics.snapshots): every service fits the profiles of its window,
  staggered or not, and stores them in Redis and the database;
- "first after flush": the same minute's tick after the Redis copies were
  dropped (a Redis flush or restart): every service reads its profiles back
  from the database (analytics.profiles.grid_profiles);
- "warm": the same minute's tick again, the steady state;
- "worst over the boundary": the slowest single tick of the following minutes
  up to B + AFTER, with each service's staggered refit grid (analytics.core.refit);
- the same stretch on the former grid (every offset patched to 0, which is the
  code before staggering): its worst tick is the one at B, when all refit.

Ticks run at those past minutes (the history is there), each evaluating one
new minute per service. Scaling is judged against linear: the reference for N
services is the 100-service time × N/100 (ratio 1.0 = linear); the worst ticks
are judged against the median tick of the same stretch. Sizes whose linear
projection exceeds the budget are skipped and say so.

These run with the fit budget lifted (every missing profile fitted in the
tick, as before analytics.fitting), so "cold" stays the cost of fitting all;
bench/tick_ahead.py measures the first ticks with the budget on the 1,000 services.

Through Celery: `analytics.tasks.detect_tick` fans out `detect_batch` tasks to
1 and then 2 worker processes; the reference is the same warm tick in-process.
"""

from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock

import numpy as np
import pandas as pd
import psycopg
import redis
from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum
from django.db.models.functions import Length
from django.test import override_settings
from django.utils import timezone

from analytics.bucketing import rebuild_buckets
from analytics.models import ProfileSnapshot, ServiceStatus
from config.celery import app
from reports.catalog import catalog
from reports.models import Feature, Service

from . import tick_ahead
from .lib.context import Context
from .lib.results import Figure, figure
from .lib.servers import CeleryWorker, rss_kib

DAYS = 3
REPORTS_PER_DAY = 150
COUNTRIES = ["US", "FR", "DE", "GB", "BR", "JP", "IN", "MX"]
CODES = ["none", "503", "500", "502"]
BUDGET_SECONDS = {False: 600.0, True: 20.0}  # per size, all its ticks: full run, smoke
# The stretch of minutes around the former refit boundary B: ticks from B - BEFORE to B + AFTER.
BEFORE, AFTER = 2, 5
# The size whose first ticks are measured with the fit budget (bench/tick_ahead.py), stretch or not.
BUDGETED_SIZE = 1_000


def _services(count: int) -> list[int]:
    """`count` services named bench-tick-*, created in bulk with three features each."""
    have = list(Service.objects.filter(slug__startswith="bench-tick-").order_by("id").values_list("id", flat=True))
    start = len(have)
    if start < count:
        Service.objects.bulk_create(
            [Service(slug=f"bench-tick-{i}", name=f"Bench tick {i}") for i in range(start, count)], batch_size=2000
        )
        new = Service.objects.filter(slug__startswith="bench-tick-").exclude(id__in=have).values_list("id", flat=True)
        Feature.objects.bulk_create(
            [Feature(service_id=s, slug=f, name=f) for s in new for f in ("app", "login", "other")], batch_size=5000
        )
        catalog.invalidate()
    return list(Service.objects.filter(slug__startswith="bench-tick-").order_by("id").values_list("id", flat=True))


def _load(ctx: Context, service_ids: list[int], *, now) -> int:
    """COPY DAYS of reports for these services and bucket them; returns the report count."""
    features = {}
    for service_id, feature_id in Feature.objects.filter(service_id__in=service_ids).values_list("service_id", "id"):
        features.setdefault(service_id, []).append(feature_id)
    rng = np.random.default_rng(4)
    per_service = REPORTS_PER_DAY * DAYS
    start = now - timedelta(days=DAYS)
    columns = "service_id, feature_id, code, country, region, observed_at, received_at, source, comment, fingerprint"
    with psycopg.connect(ctx.stack.database_url) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY reports_report ({columns}) FROM STDIN") as copy:
            for service_id in service_ids:
                offsets = rng.uniform(0, DAYS * 86_400 - 120, per_service)
                lines = []
                for k, offset in enumerate(offsets):
                    at = (start + timedelta(seconds=float(offset))).isoformat()
                    country = COUNTRIES[k % len(COUNTRIES)]
                    region = "EU" if country in ("FR", "DE", "GB") else "NA"
                    fid = features[service_id][k % 3]
                    lines.append(f"{service_id}\t{fid}\t{CODES[k % 4]}\t{country}\t{region}\t{at}\t{at}\tapi\t\t\n")
                copy.write("".join(lines))
        conn.execute("ANALYZE reports_report")
    rebuild_buckets(start=start - timedelta(minutes=1), end=now)
    return per_service * len(service_ids)


def _rewind(service_ids: list[int], *, now) -> None:
    """Make the next tick evaluate the last closed minute again, for every service."""
    last = now.replace(second=0, microsecond=0) - timedelta(minutes=2)
    ServiceStatus.objects.filter(service_id__in=service_ids).update(evaluated_at=last)


def _tick_in_process(service_ids: list[int], *, now) -> float:
    from analytics.tick import run_tick

    size = settings.TREMOR_TICK_BATCH
    started = time.perf_counter()
    for offset in range(0, len(service_ids), size):
        run_tick(service_ids=service_ids[offset : offset + size], now=now)
    return time.perf_counter() - started


def _drop_profiles() -> int:
    """Drop every cached profile, as a Redis flush or restart would (not the Celery queues beside them)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match="*:profiles:*", count=1000))
    if keys:
        client.delete(*keys)
    return len(keys)


def _cold_flushed_and_warm(service_ids: list[int], *, boundary) -> tuple[float, float, float]:
    """(tick with no stored profiles, the same tick after a Redis flush, and again warm) at B - BEFORE."""
    first = boundary - timedelta(minutes=BEFORE)
    ticks = []
    for drop_snapshots, drop_redis in ((True, True), (False, True), (False, False)):
        if drop_snapshots:  # also those an earlier size or stretch stored
            ProfileSnapshot.objects.filter(service_id__in=service_ids).delete()
        if drop_redis:
            _drop_profiles()
        _rewind(service_ids, now=first)
        ticks.append(_tick_in_process(service_ids, now=first + timedelta(seconds=5)))
    cold, flushed, warm = ticks
    return cold, flushed, warm


def _stretch(service_ids: list[int], *, boundary) -> tuple[float, float, float, list[float]]:
    """(cold tick, first tick after a flush, warm tick, the ticks of each following minute) around `boundary`."""
    first = boundary - timedelta(minutes=BEFORE)
    cold, flushed, warm = _cold_flushed_and_warm(service_ids, boundary=boundary)
    ticks = []
    for k in range(1, BEFORE + AFTER + 1):  # each evaluates the minute before `now`
        ticks.append(_tick_in_process(service_ids, now=first + timedelta(minutes=k, seconds=5)))
    return cold, flushed, warm, ticks


def _snapshot_figures(n: int, service_ids: list[int]) -> list[Figure]:
    """What the stored profiles cost: rows, bytes per row (the pickle), the table on disk."""
    stored = ProfileSnapshot.objects.filter(service_id__in=service_ids).aggregate(
        rows=Count("id"), bytes=Sum(Length("blob"))
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('analytics_profilesnapshot')")
        (on_disk,) = cursor.fetchone()
    rows = stored["rows"] or 0
    return [
        figure(f"tick.services_{n}.snapshot_rows", rows, "rows", reference=n),
        figure(f"tick.services_{n}.snapshot_bytes_per_row", (stored["bytes"] or 0) / max(1, rows), "bytes"),
        figure(f"tick.services_{n}.snapshot_table_bytes", on_disk, "bytes"),
    ]


def _former_grid():
    """The refit grid before staggering: every service at offset 0 (00/06/12/18 UTC)."""
    return mock.patch("analytics.profiles.refit_offset", lambda service_id, config: 0)


def _unbudgeted():
    """Every missing profile fitted in the tick, as before analytics.fitting: what a cold tick costs."""
    return override_settings(TREMOR_TICK_FITS=10**9)


def _tick_through_celery(service_ids: list[int], *, timeout: float) -> tuple[float, int]:
    """Send detect_tick; (seconds until the last service evaluated, services evaluated).

    detect_batch tasks expire 55 s after the tick sent them: batches a worker cannot
    reach in time are dropped (their services catch up at the next tick). So the
    wait ends when every service is done, or when nothing moved for longer than that.
    """
    now = timezone.now()
    _rewind(service_ids, now=now)
    target = now.replace(second=0, microsecond=0) - timedelta(minutes=1)
    started = time.perf_counter()
    app.send_task("analytics.tasks.detect_tick")
    done, last_progress = 0, started
    while time.perf_counter() - started < timeout and time.perf_counter() - last_progress < 60:
        count = ServiceStatus.objects.filter(service_id__in=service_ids, evaluated_at__gte=target).count()
        if count != done:
            done, last_progress = count, time.perf_counter()
        if done == len(service_ids):
            break
        time.sleep(0.05)
    return last_progress - started, done


def run(ctx: Context) -> list[Figure]:
    sizes = (5, 10) if ctx.smoke else (100, BUDGETED_SIZE, 10_000)
    budgeted_size = sizes[1]
    budget = BUDGET_SECONDS[ctx.smoke]
    figures: list[Figure] = []
    measured: list[int] = []
    per_service = None  # seconds per service of all of a size's ticks, from the last size
    base = {}
    loaded = 0
    now = timezone.now()
    # The last former refit boundary with the whole stretch in the past (the reports end at `now`).
    boundary = (pd.Timestamp(now) - pd.Timedelta(minutes=AFTER + 1)).floor("360min").to_pydatetime()
    for n in sizes:
        over_budget = per_service is not None and per_service * n > budget
        if over_budget and not ctx.large and n > budgeted_size:
            print(f"tick: {n:,} services skipped (projected {per_service * n:.0f} s > {budget:.0f} s budget)")
            figures.append(figure(f"tick.services_{n}.not_run_projected_s", per_service * n, "s"))
            continue
        ids = _services(n)
        if loaded < n:
            print(f"tick: loading {DAYS} days of reports for {n - loaded:,} services", flush=True)
            _load(ctx, ids[loaded:n], now=now)
            loaded = n
        ids = ids[:n]
        if n == budgeted_size:  # the first ticks with the fit budget of analytics.fitting
            start = (pd.Timestamp(now) - pd.Timedelta(minutes=45)).floor("1min").to_pydatetime()
            figures += tick_ahead.run(n, ids, start=start, tick=_tick_in_process, rewind=_rewind)
            measured.append(n)
        if over_budget and not ctx.large:
            print(f"tick: {n:,} services: stretch skipped (projected {per_service * n:.0f} s > {budget:.0f} s budget)")
            figures.append(figure(f"tick.services_{n}.not_run_projected_s", per_service * n, "s"))
            continue
        if over_budget:  # --large: the scaling figures only, not the whole stretch on both grids
            with _unbudgeted():
                cold, flushed, warm = _cold_flushed_and_warm(ids, boundary=boundary)
            print(
                f"tick: {n:,} services (--large): cold {cold:.1f} s, first after flush {flushed:.1f} s, "
                f"warm {warm:.1f} s",
                flush=True,
            )
            linear = n / base["n"]
            figures += [
                figure(f"tick.services_{n}.cold_s", cold, "s", reference=base["cold"] * linear),
                figure(f"tick.services_{n}.first_after_flush_s", flushed, "s", reference=warm),
                figure(f"tick.services_{n}.warm_s", warm, "s", reference=base["warm"] * linear),
            ]
            continue
        started = time.perf_counter()
        with _unbudgeted():
            cold, flushed, warm, ticks = _stretch(ids, boundary=boundary)
            snapshot_figures = _snapshot_figures(n, ids)
            with _former_grid():
                former_cold, former_flushed, _, former_ticks = _stretch(ids, boundary=boundary)
        per_service = (time.perf_counter() - started) / n
        measured.append(n)
        # Tick k evaluates minute B - BEFORE + k: the former grid's cold tick is the one evaluating B.
        print(f"tick: {n:,} services, B = {boundary:%Y-%m-%d %H:%M} UTC, seconds per tick by the minute it evaluates")
        for label, row in (("staggered", ticks), ("former grid", former_ticks)):
            print(f"  {label:<12}" + " ".join(f"B{k - BEFORE:+d} {t:.2f}" for k, t in enumerate(row)))
        print(f"  first ticks: cold {cold:.2f} (former grid {former_cold:.2f}), after a Redis flush {flushed:.2f}")
        if not base:
            base = {"n": n, "cold": cold, "warm": warm}
        linear = n / base["n"]
        # A single warm tick varies by ±20% on a shared machine: worst ticks are judged against the
        # median tick of the same stretch, and the two grids against each other.
        median, former_median = float(np.median(ticks)), float(np.median(former_ticks))
        # After a flush the profiles come from the database: judged against the warm tick it should approach.
        figures += [
            figure(f"tick.services_{n}.cold_s", cold, "s", reference=base["cold"] * linear),
            figure(f"tick.services_{n}.first_after_flush_s", flushed, "s", reference=warm),
            figure(f"tick.services_{n}.warm_s", warm, "s", reference=base["warm"] * linear),
            figure(f"tick.services_{n}.worst_over_boundary_s", max(ticks), "s", reference=median),
            figure(f"tick.services_{n}.former_grid_worst_s", max(former_ticks), "s", reference=max(ticks)),
            figure(f"tick.services_{n}.former_grid_median_s", former_median, "s", reference=median),
            figure(f"tick.services_{n}.former_grid_cold_s", former_cold, "s", reference=cold),
            figure(f"tick.services_{n}.former_grid_first_after_flush_s", former_flushed, "s", reference=flushed),
            *snapshot_figures,
        ]
    # Scale-out, on the largest size measured: 1 then 2 worker processes, 10 batches per tick.
    n = max(measured)
    ids = _services(n)[:n]
    # detect_tick fans out over every active service: only these, for this part.
    Service.objects.exclude(id__in=ids).update(active=False)
    # Twice: the first may fit the profiles of the grid points passed since the stretch.
    for _ in range(2):
        _rewind(ids, now=timezone.now())
        reference = _tick_in_process(ids, now=timezone.now())
    for workers in (1, 2):
        env = ctx.stack.env(TREMOR_TICK_BATCH=str(max(1, n // 10)))
        worker = CeleryWorker(env, concurrency=workers, log=ctx.workdir / f"celery-tick-{workers}.log").start()
        try:
            idle = max(rss_kib(p) for p in worker.pids())
            seconds, done = _tick_through_celery(ids, timeout=budget)
            peak = worker.peak_rss_kib()
        finally:
            worker.stop()
        ctx.peaks.append((f"memory.celery_worker_peak_rss.tick_{workers}_workers", peak, idle))
        name = f"tick.celery_{workers}_workers.services_{n}"
        figures.append(figure(f"{name}_s", seconds, "s", reference=reference))
        figures.append(figure(f"{name}_evaluated", done, "services", reference=n))
    return figures
