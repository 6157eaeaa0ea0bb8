"""Journalists' pages with 30 days of data: the service page's HTML and each chart-data endpoint.

Target: median under 150 ms per URL on this machine (2 cores), p99 reported beside it.

Two ways to run it:
- `.venv/bin/python -m bench.pages [--db URL] [--requests N]`: stand-alone, Django's test client
  in this process against a throwaway SQLite file (or the database at --db), printing a table.
- `bench/run --only pages`: the suite's PostgreSQL + gunicorn stack (`run(ctx)`), real HTTP
  on 127.0.0.1.
Every loop is bounded in requests and seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

SERVICE = "bench-pages"
DAYS = 30
TARGET_MS = 150.0
MAX_SECONDS_PER_URL = 60.0


def urls() -> list[str]:
    base = f"/status/{SERVICE}"
    out = [f"{base}/", f"{base}/?range=7d", f"{base}/?range=30d"]
    for range_key in ("24h", "7d", "30d"):
        out += [
            f"{base}/chart/{name}.json?range={range_key}" for name in ("timeline", "map", "region", "code", "feature")
        ]
    return out + [f"{base}/status.json", f"{base}/chart/timeline.csv?range=30d"]


def seed(*, days: int = DAYS) -> int:
    """30 days of ordinary reports (~2,000 a day) and the 14 Feb 2023 outage in the last day, bucketed."""
    from django.utils import timezone

    from analytics.bucketing import bucket_range
    from analytics.models import BucketingState, Incident, Level, ServiceStatus
    from demo import scenarios
    from reports.imports import import_rows
    from reports.models import Service
    from reports.services import service_create

    Service.objects.filter(slug=SERVICE).delete()
    service = service_create(slug=SERVICE, name="Bench Pages", features=scenarios.TESLA_FEATURES)
    now = timezone.now()
    frame = scenarios.concat(
        scenarios.background(service=SERVICE, start=now - timedelta(days=days), end=now, seed=7),
        scenarios.outage_2023_02_14(onset=now - timedelta(hours=14), service=SERVICE, seed=8),
    )
    frame = frame[frame["observed_at"] < now]
    result = import_rows(frame[scenarios.CSV_COLUMNS].to_dict("records"))
    bucket_range(start=result.start, end=result.end, services=[SERVICE])
    closed = now.replace(second=0, microsecond=0)
    BucketingState.objects.update_or_create(id=1, defaults={"bucketed_until": closed, "scanned_until": closed})
    onset = now - timedelta(hours=14)
    incident = Incident.objects.create(
        service=service, level=Level.PROBLEMS, started_at=onset, detected_at=onset + timedelta(minutes=5),
        peak_at=onset + timedelta(minutes=40), peak_reports_per_minute=30.0, baseline_at_peak=2.0,
        excess_reports=5000.0, is_regional=True,
        scope={"regions": ["EU"], "codes": ["503"], "features": ["remote-unlock", "climate"]},
        scope_shares={"regions": {"EU": 97.0}}, phases=[{"started_at": onset.isoformat(), "ended_at": None}],
    )  # fmt: skip
    ServiceStatus.objects.update_or_create(
        service=service, defaults={"level": Level.PROBLEMS, "evaluated_at": now, "incident": incident}
    )
    return result.rows


def measure(
    get: Callable[[str], int], url: str, *, requests: int, before: Callable[[], None] | None = None
) -> tuple[float, float]:
    """Median and p99 in ms of `requests` sequential GETs (after one warm-up), bounded in time.

    `before` runs untimed before each request (the suite empties the chart cache with it).
    """
    assert get(url) == 200, url
    times: list[float] = []
    deadline = time.monotonic() + MAX_SECONDS_PER_URL
    while len(times) < requests and time.monotonic() < deadline:
        if before is not None:
            before()
        t0 = time.perf_counter()
        status = get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert status == 200, (url, status)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]


def _clear_charts() -> None:
    """Drop the cached charts and series (public.views), not the detector's profiles."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = [k for pattern in ("*:chart:*", "*:series:*") for k in client.scan_iter(match=pattern, count=1000)]
    if keys:
        client.delete(*keys)


def _http_get(base: str) -> Callable[[str], int]:
    assert base.startswith("http://127.0.0.1:"), "benchmarks only load loopback servers"

    def get(path: str) -> int:
        with urllib.request.urlopen(base + path, timeout=10) as response:
            response.read()
            return response.status

    return get


def run(ctx) -> list:
    """The suite's entry point: PostgreSQL, gunicorn, real HTTP on 127.0.0.1."""
    from .lib.results import figure

    started = time.monotonic()
    rows = seed(days=7 if ctx.smoke else DAYS)
    print(f"pages: {rows:,} reports seeded in {time.monotonic() - started:.0f} s", flush=True)
    from django.core.cache import cache

    get = _http_get(ctx.web.url)
    figures = []
    n = 5 if ctx.smoke else 40
    for url in urls():
        name = "pages." + url.replace(f"/status/{SERVICE}", "service").strip("/")
        # Cold: the chart cache emptied before each request, so every chart is read from the buckets
        # (the first viewer of a minute); the detector's profiles stay cached, as the minute tick
        # keeps them. After a flush: all of Redis emptied, so the band's profiles are fitted too
        # (after a Redis restart, until the next tick). Warm: the per-minute chart cache.
        get(url)  # fits and caches the profiles this page's band needs
        cold = measure(get, url, requests=n, before=_clear_charts)
        flushed = measure(get, url, requests=max(3, n // 8), before=cache.clear)
        warm = measure(get, url, requests=n)
        figures.append(figure(f"{name}.cold.median", cold[0], "ms", target=f"<= {TARGET_MS:g} ms"))
        figures.append(figure(f"{name}.cold.p99", cold[1], "ms"))
        figures.append(figure(f"{name}.after_redis_flush.median", flushed[0], "ms"))
        figures.append(figure(f"{name}.warm.median", warm[0], "ms", target=f"<= {TARGET_MS:g} ms"))
        figures.append(figure(f"{name}.warm.p99", warm[1], "ms"))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pages")
    parser.add_argument("--db", help="DATABASE_URL (default: a throwaway SQLite file)")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per URL (default 40)")
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="tremor-bench-pages-")
    os.environ["DATABASE_URL"] = args.db or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    os.environ.setdefault("TREMOR_CACHE_PREFIX", f"bench-pages-{os.getpid()}")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    t0 = time.monotonic()
    rows = seed()
    print(f"seeded {rows:,} reports over {DAYS} days in {time.monotonic() - t0:.0f} s ({os.environ['DATABASE_URL']})")
    client = Client()

    def get(path: str) -> int:
        return client.get(path).status_code

    from django.conf import settings

    width = max(len(u) for u in urls())
    print(f"{'URL':<{width}}  {'cold median':>11}  {'cold p99':>8}  {'warm median':>11}  {'warm p99':>8}")
    worst = 0.0
    for url in urls():
        # Cold: every request computed from the buckets. Warm: the per-minute chart cache as in production.
        settings.TREMOR_CHART_CACHE_SECONDS = 0
        cold = measure(get, url, requests=args.requests)
        settings.TREMOR_CHART_CACHE_SECONDS = 60
        warm = measure(get, url, requests=args.requests)
        worst = max(worst, cold[0])
        flag = "" if cold[0] <= TARGET_MS else f"  cold over {TARGET_MS:g} ms"
        print(f"{url:<{width}}  {cold[0]:11.1f}  {cold[1]:8.1f}  {warm[0]:11.1f}  {warm[1]:8.1f}{flag}", flush=True)
    load = os.getloadavg()[0]
    print(
        f"slowest cold median: {worst:.1f} ms (target {TARGET_MS:g} ms);"
        f" load average {load:.1f} on {os.cpu_count()} cores"
    )
    return 0 if worst <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
