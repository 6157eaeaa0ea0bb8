"""3. Bucketing: the Celery bucketing task over N reports spread over a day, against one GROUP BY."""

from __future__ import annotations

import time
from datetime import timedelta

import numpy as np
import psycopg
from django.db.models import Sum
from django.utils import timezone

from analytics.models import Bucket, BucketingState, BucketSlice
from config.celery import app
from reports.models import Feature, Service
from reports.regions import region_for

from .lib.context import Context
from .lib.results import Figure, figure
from .lib.servers import CeleryWorker, rss_kib

COUNTRIES = ["US", "FR", "DE", "GB", "BR", "JP", "KR", "IN", "ZA", "MX", "ES", "IT", "CA", "AU", "NG", "PL", "NL", "SE"]
CODES = ["none", "503", "500", "502", "504", "ERR_TIMEOUT", "401", "429", "403", "408"]
COLUMNS = "service_id, feature_id, code, country, region, observed_at, received_at, source, comment, fingerprint"


def _zipf(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Skewed picks in [0, n): a few services, countries and codes carry most reports, as in life."""
    weights = 1 / np.arange(1, n + 1)
    return rng.choice(n, size=size, p=weights / weights.sum())


def load_reports(ctx: Context, count: int, *, now) -> None:
    """COPY `count` reports over the day before `now` into an empty report table."""
    services = list(Service.objects.filter(slug__startswith="bench-svc-").order_by("id").values_list("id", flat=True))
    features = {
        s: list(Feature.objects.filter(service_id=s).order_by("id").values_list("id", flat=True)) for s in services
    }
    rng = np.random.default_rng(6)
    service = np.array(services)[_zipf(rng, len(services), count)]
    feature_pick = _zipf(rng, 6, count)
    country = _zipf(rng, len(COUNTRIES), count)
    code = _zipf(rng, len(CODES), count)
    start = now - timedelta(days=1)
    offsets = np.sort(rng.uniform(0, 86_400 - 180, count))
    with psycopg.connect(ctx.stack.database_url) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY reports_report ({COLUMNS}) FROM STDIN") as copy:
            chunk = []
            for i in range(count):
                s = int(service[i])
                at = (start + timedelta(seconds=float(offsets[i]))).isoformat()
                c = COUNTRIES[country[i]]
                fid = features[s][feature_pick[i] % len(features[s])]
                chunk.append(f"{s}\t{fid}\t{CODES[code[i]]}\t{c}\t{region_for(c)}\t{at}\t{at}\tapi\t\t\n")
                if len(chunk) == 50_000:
                    copy.write("".join(chunk))
                    chunk = []
            copy.write("".join(chunk))
        conn.execute("ANALYZE reports_report")


def _reference(ctx: Context) -> tuple[float, float, int]:
    """Seconds for the same aggregation as one GROUP BY (all slice keys), and minute only."""
    with psycopg.connect(ctx.stack.database_url) as conn:
        started = time.perf_counter()
        rows = conn.execute(
            "SELECT service_id, date_trunc('minute', observed_at), region, country, code, feature_id, count(*)"
            " FROM reports_report GROUP BY 1, 2, 3, 4, 5, 6"
        ).fetchall()
        full = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("SELECT date_trunc('minute', observed_at), count(*) FROM reports_report GROUP BY 1").fetchall()
        minute_only = time.perf_counter() - started
    return full, minute_only, len(rows)


def run(ctx: Context) -> list[Figure]:
    count = 20_000 if ctx.smoke else 1_000_000
    with psycopg.connect(ctx.stack.database_url, autocommit=True) as conn:
        conn.execute("TRUNCATE reports_report, analytics_bucket_minute")
    BucketingState.objects.all().delete()
    now = timezone.now()
    load_reports(ctx, count, now=now)
    worker = CeleryWorker(ctx.stack.env(), concurrency=0, log=ctx.workdir / "celery-bucketing.log").start()
    try:
        idle_rss = rss_kib(worker.proc.pid)
        ref_full, ref_minute, ref_rows = _reference(ctx)
        started = time.perf_counter()
        app.send_task("analytics.tasks.bucket_reports")
        deadline = time.monotonic() + (60 if ctx.smoke else 900)
        while not BucketingState.objects.filter(scanned_until__isnull=False).exists():
            if time.monotonic() > deadline:
                raise RuntimeError("bucketing did not finish in time; see " + str(worker.log_path))
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        peak = worker.peak_rss_kib()
    finally:
        worker.stop()
    ctx.peaks.append(("memory.celery_worker_peak_rss.bucketing", peak, idle_rss))
    bucketed = Bucket.objects.aggregate(n=Sum("total"))["n"] or 0
    return [
        figure("bucketing.reports_per_s", count / elapsed, "reports/s", reference=count / ref_full, target=">= 0.7x"),
        figure("bucketing.task_seconds", elapsed, "s", reference=ref_full),
        figure("bucketing.reference_minute_only_reports_per_s", count / ref_minute, "reports/s"),
        figure("bucketing.bucket_rows_service_minutes", Bucket.objects.count(), "rows"),
        figure(
            "bucketing.slices",
            BucketSlice.objects.count(),
            "slices",
            reference=ref_rows,
            target="= GROUP BY rows",
            passed=BucketSlice.objects.count() == ref_rows,
        ),
        figure(
            "bucketing.reports_counted",
            bucketed,
            "reports",
            reference=count,
            target="= reports",
            passed=bucketed == count,
        ),
    ]
