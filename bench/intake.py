"""1. Single-report intake: Tremor's POST /api/v1/reports/ against a bare one-INSERT view and a one-Redis-call view.

Tremor acknowledges from the durable intake log (the bench Redis runs AOF with
appendfsync always) and a flusher, running through the whole benchmark, stores
the reports: each 201 must still be one row once it has caught up.
"""

from __future__ import annotations

import itertools
import statistics
import time

from reports import intake_log
from reports.models import Report

from .lib.context import Context, wrk
from .lib.results import Figure, figure
from .lib.servers import Flusher

DUP_EVERY = 20  # one request in 20 repeats its reporter: dedupe answers 200 and stores nothing


_RUN_IDS = itertools.count(1)
_last_settled: dict[str, int] = {}


def _count(slug: str) -> int:
    return Report.objects.filter(service__slug=slug).count()


def _settled_count(slug: str, *, slowest_s: float = 0.0) -> int:
    """The row count once requests still in flight when wrk stopped have been written."""
    # Quiet for longer than one call takes (a bulk call is ~0.5 s on a loaded machine; on a
    # saturated one the run's own slowest answers say how long a straggler may still take).
    quiet = max(1.5, 3 * slowest_s)
    last, deadline = _count(slug), time.monotonic() + 20 + quiet
    quiet_since = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - quiet_since < quiet:
        time.sleep(0.25)
        now = _count(slug)
        if now != last:
            last, quiet_since = now, time.monotonic()
    return last


def _run(ctx: Context, path: str, slug: str, conns: int, seconds: float) -> dict:
    args = [path, slug, "remote-unlock", str(DUP_EVERY), f"{time.time():.0f}-{next(_RUN_IDS)}"]
    if path == REDIS_PATH:  # stores no row: nothing to count
        result = wrk(ctx.web.url, "intake.lua", args, connections=conns, seconds=seconds)
        result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
        return result
    # The settled count after this slug's previous run is still right: runs alternate slugs.
    before = _last_settled.get(slug)
    if before is None:
        before = _settled_count(slug)
    result = wrk(ctx.web.url, "intake.lua", args, connections=conns, seconds=seconds)
    result["lag_s"] = intake_log.lag()["oldest_seconds"]  # the flusher's lag as the load stops
    _last_settled[slug] = _settled_count(slug, slowest_s=result.get("p99_us", 0) / 1e6)
    result["stored"] = _last_settled[slug] - before
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


REDIS_PATH = "/bench/redis/"


def run(ctx: Context) -> list[Figure]:
    flusher = Flusher(ctx.web.env, log=ctx.workdir / "flusher-intake.log").start()
    try:
        return _measure(ctx)
    finally:
        flusher.stop()


def _measure(ctx: Context) -> list[Figure]:
    seconds = ctx.seconds(10, 2)
    rounds = 1 if ctx.smoke else 3
    # Warm both paths (imports, catalog, connections) before measuring.
    warm = ctx.seconds(3, 1)
    _run(ctx, "/bench/insert/", "bench-ref", 8, warm)
    _run(ctx, REDIS_PATH, "bench", 8, warm)
    _run(ctx, "/api/v1/reports/", "bench", 8, warm)
    figures: list[Figure] = []
    for conns in (8, 32):
        ref_runs, redis_runs, tremor_runs = [], [], []
        for _ in range(rounds):  # interleaved, so drift on a shared machine hits all alike
            ref_runs.append(_run(ctx, "/bench/insert/", "bench-ref", conns, seconds))
            redis_runs.append(_run(ctx, REDIS_PATH, "bench", conns, seconds))
            tremor_runs.append(_run(ctx, "/api/v1/reports/", "bench", conns, seconds))
        ref = {k: statistics.median(r[k] for r in ref_runs) for k in ("rps", "p50_us", "p99_us")}
        got = {k: statistics.median(r[k] for r in tremor_runs) for k in ("rps", "p50_us", "p99_us")}
        one_call = statistics.median(r["rps"] for r in redis_runs)
        figures += [
            # Reference: the bare one-INSERT view (synchronous commit, as durable as the log).
            figure(f"intake.c{conns}.requests_per_s", got["rps"], "req/s", reference=ref["rps"], target=">= 3x"),
            figure(f"intake.c{conns}.vs_one_redis_call", got["rps"], "req/s", reference=one_call, target=">= 0.7x"),
            figure(f"intake.c{conns}.flusher_lag_at_end", max(r["lag_s"] for r in tremor_runs), "s"),
            figure(f"intake.c{conns}.p50", got["p50_us"] / 1000, "ms", reference=ref["p50_us"] / 1000),
            figure(
                f"intake.c{conns}.p99",
                got["p99_us"] / 1000,
                "ms",
                reference=ref["p99_us"] / 1000,
                target="<= 30 ms" if conns == 32 else None,
            ),
        ]
        # Accounting: every 201 is one stored row, every 200 a duplicate that stored nothing.
        # wrk stops with up to one request per connection in flight; the server still
        # finishes those (rows without a 201 seen by wrk), so rows may exceed 201s by < conns.
        created = sum(r["statuses"].get(201, 0) for r in tremor_runs)
        dupes = sum(r["statuses"].get(200, 0) for r in tremor_runs)
        other = sum(n for r in tremor_runs for s, n in r["statuses"].items() if s not in (200, 201))
        other += sum(r["errors"] for r in tremor_runs)
        stored = sum(r["stored"] for r in tremor_runs)
        in_flight = stored - created
        ok = created > 0 and 0 <= in_flight <= conns * len(tremor_runs) and other == 0 and dupes > 0
        name = f"intake.c{conns}"
        figures += [
            figure(
                f"{name}.rows_stored_vs_201", stored, "rows", reference=created, target="= 201s + in flight", passed=ok
            ),
            figure(f"{name}.answered_200_duplicates", dupes, "answers", reference=(created + dupes) / DUP_EVERY),
            figure(f"{name}.errors_and_other_statuses", other, "answers", target="<= 0"),
        ]
    return figures
