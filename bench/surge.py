"""The surge (`bench/run --only surge`): 100 services at 100x their normal rate for 60 s, with page reads.

The normal rate is measured, not assumed: each service gets a day of the demo's
ordinary traffic (demo.background at 2,000 reports a day, the reference
service's volume), imported and bucketed, and the normal rate is the stored
reports of that day per second. The surge then sends 100x that rate of single
reports through the real intake (the suite's gunicorn, acknowledged from the
durable log, a flusher storing it), paced, each from a new reporter, spread over
the services, while readers fetch the services' pages and timelines at
PAGE_SHARE of the intake rate. Before it, a closed loop of the same mix measures
what this machine holds: when 100x is more, the surge runs at the first of a few
shares of that capacity (PROBES) that holds for 20 s across a minute boundary,
and the figures say how far short of 100x it is.

Afterwards, once the flusher has drained the log: every 201 is one stored row
(the acknowledged stream entries are exactly the stored `log_entry`s) and no
report is stored twice (one row per reporter fingerprint).
"""

from __future__ import annotations

import itertools
import json
import os
import time
from datetime import timedelta

from .lib import load
from .lib.accounting import account, drain
from .lib.context import Context
from .lib.results import Figure, figure
from .lib.servers import Flusher

SURGE = 100  # times the normal rate
PAGE_SHARE = 0.1  # page reads per report sent
# When 100x is more than the closed loop's capacity, these shares of it are tried for a few seconds each,
# and the surge runs at the first that holds: every request answered 201, the p99 (timed from each
# request's due moment, so a growing queue shows) under HOLD_P99_MS.
PROBES = (0.9, 0.75, 0.6, 0.45, 0.3)
PROBE_SECONDS = 20
HOLD_P99_MS = 1000.0
DAILY_REPORTS = 2000.0
PREFIX = "surge-"
FEATURES = ("app-login", "remote-unlock", "climate", "location", "payments")
_RUNS = itertools.count(1)


def seed(n_services: int, hours: int) -> tuple[list[str], float]:
    """The services and `hours` of ordinary reports each, bucketed; returns (slugs, normal reports/s)."""
    import pandas as pd
    from django.utils import timezone

    from analytics.bucketing import bucket_range
    from analytics.models import BucketingState
    from demo import scenarios
    from reports.imports import import_rows
    from reports.models import Report
    from reports.services import service_create

    slugs = [f"{PREFIX}{i:03d}" for i in range(n_services)]
    now = timezone.now()
    start = now - timedelta(hours=hours)
    for slug in slugs:
        service_create(slug=slug, name=slug.replace("-", " ").title(), features=scenarios.TESLA_FEATURES)
    frames = [
        scenarios.background(service=slug, start=start, end=now, daily_reports=DAILY_REPORTS, seed=100 + i)
        for i, slug in enumerate(slugs)
    ]
    frame = pd.concat(frames, ignore_index=True)
    result = import_rows(frame[scenarios.CSV_COLUMNS].to_dict("records"))
    bucket_range(start=result.start, end=result.end, services=slugs)
    closed = now.replace(second=0, microsecond=0)
    BucketingState.objects.update_or_create(id=1, defaults={"bucketed_until": closed, "scanned_until": closed})
    stored = Report.objects.filter(service__slug__in=slugs, observed_at__gte=start).count()
    return slugs, stored / (hours * 3600)


def streams(slugs: list[str], rate: float, run: int) -> list[load.Stream]:
    """Reports spread over the services, each from its own reporter; the services' pages and timelines."""
    features = FEATURES[:2]

    def report(i: int) -> bytes:
        slug, feature = slugs[i % len(slugs)], features[(i // len(slugs)) % len(features)]
        body = json.dumps({"service": slug, "feature": feature, "code": "503", "country": "FR"}).encode()
        # A network is one IPv4 address (reports/fingerprint.py): its own per request, 16.7 million a run.
        address = f"{10 + run % 200}.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        return load.post_json("/api/v1/reports/", body, {"User-Agent": f"surge/{run}/{i}", "X-Forwarded-For": address})

    def page(i: int) -> bytes:
        slug = slugs[(i // 2) % len(slugs)]
        return load.get(f"/status/{slug}/" if i % 2 == 0 else f"/status/{slug}/chart/timeline.json?range=24h")

    return [
        load.Stream("intake", rate, report, keep_201=True),
        load.Stream("pages", max(0.5, rate * PAGE_SHARE), page),
    ]


def _before_a_minute_boundary() -> None:
    """Wait until 8 s before the next whole minute: every service's cached charts expire at once then
    (public/views.py caches them for the rest of their minute), so a probe must span one."""
    time.sleep((52 - time.time() % 60) % 60)


def run(ctx: Context) -> list[Figure]:
    flusher = Flusher(ctx.web.env, log=ctx.workdir / "flusher-surge.log", name="bench-surge").start()
    try:
        return _measure(ctx)
    finally:
        flusher.stop()


def _measure(ctx: Context) -> list[Figure]:
    from django.utils import timezone

    from reports import intake_log
    from reports.models import Report

    n_services, hours = (5, 2) if ctx.smoke else (100, 24)
    seconds, calibrate = ctx.seconds(60, 3), ctx.seconds(10, 2)
    t0 = time.monotonic()
    slugs, normal = seed(n_services, hours)
    seeded = timezone.now()
    print(f"surge: {n_services} services, {hours} h of ordinary reports seeded in {time.monotonic() - t0:.0f} s;"
          f" normal rate {normal:.2f} reports/s, 100x = {normal * SURGE:.0f}/s", flush=True)  # fmt: skip
    port = ctx.web.port
    wanted = normal * SURGE
    # Every page once first: the first view of a service's band fits its profiles (seconds each), which
    # in production the minute tick has done long before a surge.
    t0 = time.monotonic()
    primed = load.once(port, [streams(slugs, 1, 0)[1].make(i) for i in range(2 * len(slugs))], clients=2)
    print(f"surge: {primed.answered} pages primed in {time.monotonic() - t0:.0f} s {dict(primed.statuses)}", flush=True)
    _, warm = load.closed_loop(port, streams(slugs, wanted, next(_RUNS)), ctx.seconds(3, 1), clients=8)
    capacity, calib = load.closed_loop(port, streams(slugs, wanted, next(_RUNS)), calibrate, clients=16)
    # The same without the page reads: what the reads cost intake.
    alone, calib_alone = load.closed_loop(port, streams(slugs, wanted, next(_RUNS))[:1], calibrate, clients=16)
    # The mix's capacity in requests/s, of which intake is 1 / (1 + PAGE_SHARE).
    intake_capacity = capacity / (1 + PAGE_SHARE)
    load1 = os.getloadavg()[0]
    print(f"surge: capacity {intake_capacity:.0f} reports/s with the pages, {alone:.0f} without (closed loop);"
          f" load average {load1:.1f}", flush=True)  # fmt: skip
    rate, probes = wanted, []
    if wanted > intake_capacity:
        for share in PROBES:
            rate = share * intake_capacity
            if not ctx.smoke:
                _before_a_minute_boundary()
            probes.append(load.open_loop(port, streams(slugs, rate, next(_RUNS)), ctx.seconds(PROBE_SECONDS, 1)))
            p99 = probes[-1]["intake"].percentile_ms(0.99)
            held = p99 <= HOLD_P99_MS and not probes[-1]["intake"].unexpected(201)
            print(f"surge: probe at {rate:.0f} reports/s: p99 {p99:.0f} ms, {'holds' if held else 'does not hold'}",
                  flush=True)  # fmt: skip
            if held:
                break
    print(f"surge: {rate:.0f} reports/s for {seconds:.0f} s" + ("" if rate == wanted else " (short of 100x)"),
          flush=True)  # fmt: skip
    lags: list[float] = []

    seen = {"intake": 0, "pages": 0}
    worst = {"intake": 0.0, "pages": 0.0}

    def progress(elapsed: float, tallies: dict[str, load.Tally]) -> None:
        """The rates so far; the p99 of the answers since the last line (a queue that grows shows at once)."""
        lag = intake_log.lag()
        lags.append(lag["oldest_seconds"])
        p99 = {name: t.percentile_ms(0.99, since=seen[name]) for name, t in tallies.items()}
        for name, t in tallies.items():
            seen[name], worst[name] = len(t.latencies), max(worst[name], p99[name])
        i, p = tallies["intake"], tallies["pages"]
        print(f"surge: {elapsed:4.0f} s  intake {i.answered / elapsed:6.0f}/s p99 {p99['intake']:6.0f} ms"
              f"  pages {p.answered / elapsed:5.0f}/s p99 {p99['pages']:6.0f} ms"
              f"  log {lag['unflushed']:6d} entries, oldest {lag['oldest_seconds']:.1f} s", flush=True)  # fmt: skip

    started = time.monotonic()
    surge = load.open_loop(
        port, streams(slugs, rate, next(_RUNS)), seconds, progress=progress, every=5 if seconds > 10 else 1
    )
    elapsed = time.monotonic() - started
    lag_end = intake_log.lag()["oldest_seconds"]
    lags.append(lag_end)
    drain_s = drain(timeout=120)
    load2 = os.getloadavg()[0]

    # The reports of this run: stored (by the flusher, or directly) after the seeded ones.
    runs = [warm, calib, calib_alone, *probes, surge]
    books = account([t["intake"] for t in runs], Report.objects.filter(
        service__slug__in=slugs, received_at__gt=seeded))  # fmt: skip
    intake, pages = surge["intake"], surge["pages"]
    # Intake answers 201 only (every reporter is new: no dedupe 200s), pages 200 only.
    other = sum(t["intake"].unexpected(201) + (t["pages"].unexpected(200) if "pages" in t else 0) for t in runs)
    return [
        figure("surge.normal_rate", normal, "reports/s"),
        figure("surge.capacity_reports_per_s", intake_capacity, "reports/s", reference=wanted),
        figure("surge.capacity_without_pages", alone, "reports/s", reference=intake_capacity),
        figure("surge.rate_share_of_capacity", rate, "reports/s", reference=intake_capacity),
        figure("surge.intake.requests_per_s", intake.answered / elapsed, "req/s", reference=wanted, target=">= 0.95x"),
        figure("surge.intake.p50", intake.percentile_ms(0.5), "ms"),
        figure("surge.intake.p99", intake.percentile_ms(0.99), "ms"),
        figure("surge.intake.p99_worst_interval", worst["intake"], "ms"),  # of the progress lines' intervals
        figure("surge.intake.late_starts", intake.late, "requests"),
        figure("surge.pages.requests_per_s", pages.answered / elapsed, "req/s", reference=rate * PAGE_SHARE),
        figure("surge.pages.p50", pages.percentile_ms(0.5), "ms"),
        figure("surge.pages.p99", pages.percentile_ms(0.99), "ms"),
        figure("surge.pages.p99_worst_interval", worst["pages"], "ms"),
        figure("surge.flusher_lag_max", max(lags), "s"),
        figure("surge.flusher_lag_at_end", lag_end, "s"),
        figure("surge.drain_after_load", drain_s, "s"),
        # Every 201 of the warm-up, calibration and surge: its stream entry is a stored row, and nothing else is.
        figure(
            "surge.rows_stored_vs_201",
            books.stored,
            "rows",
            reference=books.acknowledged,
            target="= 201s, each once",
            passed=books.exact,
        ),  # fmt: skip
        figure("surge.duplicate_rows", books.duplicate_rows, "rows", target="<= 0"),
        figure("surge.answered_direct_insert", books.acknowledged - books.from_log, "answers", target="<= 0"),
        figure("surge.errors_and_other_statuses", other, "answers", target="<= 0"),
        figure("surge.load_average", max(load1, load2), "load"),
    ]
