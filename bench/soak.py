"""Soak test: intake on the durable log at 80% of its measured capacity for 60 s, with the beat tick running.

    .venv/bin/python -m bench.soak [--seconds 60] [--calibrate 10] [--load 0.8] [--json FILE]

Starts its own stack on 127.0.0.1 only: a throwaway PostgreSQL cluster with
production durability (bench/lib/servers.py: fsync and synchronous commit on), or
SQLite with --sqlite; a private Redis with AOF and `appendfsync always`, so intake
acknowledges from the log (reports/intake_log.py); gunicorn; a flusher
(`manage.py flush_intake`) and a Celery worker. It measures the capacity of that
path with a closed loop, then sends a paced open-loop load at `--load` of it
(bench/lib/load.py) while a ticker enqueues the bucketing (and detection) tasks
every few seconds, as beat does every minute, and prints its progress. Every
request comes from a new reporter (its own User-Agent), so dedupe stores each one.

Afterwards, once the flusher has emptied the log: every 201 came from the log
and its stream entry is exactly one stored row (acknowledged == stored, no entry
and no reporter stored twice), zero 5xx, latency percentiles. Exits 1 if anything
was lost, stored twice or answered 5xx. Bounded: at most 600 s of load, every
loop has a deadline.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.lib import load  # noqa: E402
from bench.lib.accounting import account, drain  # noqa: E402
from bench.lib.servers import Postgres  # noqa: E402
from tests.support.pgcluster import PG_BIN  # noqa: E402
from tests.support.servers import CeleryWorker, Gunicorn, Process, RedisServer, app_env, manage  # noqa: E402

MAX_SECONDS = 600
DRAIN_SECONDS = 120
TICK_SECONDS = 5.0
TICK_TASKS = ["analytics.tasks.bucket_reports"]
SLUG = "soak"
SETUP = f"from reports.services import service_create; service_create(slug={SLUG!r}, name='Soak', features=['login'])"


def reports(run: str, rate: float = 1.0) -> load.Stream:
    """Single reports, each from a new reporter (distinct User-Agent)."""
    body = json.dumps({"service": SLUG, "feature": "login", "code": "503", "country": "FR"}).encode()

    def make(i: int) -> bytes:
        return load.post_json("/api/v1/reports/", body, {"User-Agent": f"soak-{run}-{i}"})

    return load.Stream("intake", rate, make, keep_201=True)


class Ticker(threading.Thread):
    """Enqueues the periodic tasks every TICK_SECONDS through the real broker, as beat does."""

    def __init__(self, redis_url: str, tasks: list[str], every: float) -> None:
        super().__init__(daemon=True)
        from celery import Celery

        self.app = Celery("soak-ticker", broker=redis_url)
        self.tasks, self.every, self.sent, self._stop_event = tasks, every, 0, threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.every):
            for name in self.tasks:
                self.app.send_task(name)
                self.sent += 1

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)


def _tick_tasks() -> list[str]:
    tasks = list(TICK_TASKS)
    try:
        from analytics import tasks as analytics_tasks

        tasks += [
            f"analytics.tasks.{n}" for n in ("detect_tick", "detection_tick", "tick") if hasattr(analytics_tasks, n)
        ]
    except Exception:  # the detection tick is optional here
        pass
    return tasks


def soak(args: argparse.Namespace) -> dict:
    seconds = min(args.seconds, MAX_SECONDS)
    workdir = Path(tempfile.mkdtemp(prefix="tremor-soak-"))
    workdir.chmod(0o755)  # the cluster runs as `postgres` when we are root
    cluster = None
    processes: list = []
    try:
        if args.database_url:
            database_url = args.database_url
        elif args.sqlite or not (PG_BIN / "initdb").exists():
            database_url = f"sqlite:///{workdir / 'soak.sqlite3'}"
        else:
            cluster = Postgres(workdir / "pg").init().start()
            database_url = cluster.create_database()
        redis = RedisServer(workdir / "redis", aof=True).start()
        processes.append(redis)
        env = app_env(
            DATABASE_URL=database_url,
            REDIS_URL=redis.url,
            TREMOR_REPORT_THROTTLE="100000000/min",
            TREMOR_CACHE_PREFIX=f"soak-{os.getpid()}",
            LOG_LEVEL="WARNING",
        )
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "shell", "-c", SETUP)
        os.environ.update(env)
        import django

        django.setup()
        from django.db.models import Sum

        from analytics.models import Bucket
        from reports import intake_log
        from reports.models import Report

        web = Gunicorn(env, workdir / "gunicorn.log", workers=args.workers).start()
        processes.append(web)
        flusher = Process([sys.executable, "manage.py", "flush_intake", "--name", "soak"], {**env, "LOG_LEVEL": "INFO"},
                          workdir / "flusher.log")  # fmt: skip
        processes.append(flusher.start())
        flusher.wait_for_log("started")
        worker = CeleryWorker(env, workdir / "worker.log")
        processes.append(worker.start())
        mode = intake_log.mode(fresh=True)
        print(f"soak: {database_url.split(':', 1)[0]}, {args.workers} gunicorn workers, intake log: {mode.reason}",
              flush=True)  # fmt: skip

        run = str(os.getpid())
        _, warmup = load.closed_loop(web.port, [reports(f"{run}-w")], min(1.0, args.calibrate), clients=args.threads)
        # Capacity is measured with the tick and the flusher running: they share the machine with intake.
        ticker = Ticker(redis.url, _tick_tasks(), every=args.tick)
        ticker.start()
        capacity, calib = load.closed_loop(web.port, [reports(f"{run}-c")], args.calibrate, clients=args.threads)
        assert calib["intake"].answered > 0, "no request was answered during calibration"
        rate = max(1.0, capacity * args.load)
        load_avg = os.getloadavg()[0]
        print(f"soak: capacity {capacity:.0f} req/s (closed loop, {args.threads} clients, {args.calibrate:g} s);"
              f" load average {load_avg:.1f}; now {rate:.0f} req/s for {seconds:g} s", flush=True)  # fmt: skip
        lags: list[float] = []

        seen = [0]

        def progress(elapsed: float, tallies: dict[str, load.Tally]) -> None:
            """The rate so far; the p99 of the answers since the last line."""
            t, lag = tallies["intake"], intake_log.lag()
            lags.append(lag["oldest_seconds"])
            p99, seen[0] = t.percentile_ms(0.99, since=seen[0]), len(t.latencies)
            print(f"soak: {elapsed:4.0f} s  {t.answered / elapsed:6.0f} req/s  p99 {p99:6.0f} ms"
                  f"  5xx {sum(n for c, n in t.statuses.items() if c >= 500)}  no answer {t.errors}"
                  f"  log {lag['unflushed']} entries, oldest {lag['oldest_seconds']:.1f} s", flush=True)  # fmt: skip

        started = time.monotonic()
        stream = reports(f"{run}-s", rate)
        tallies = load.open_loop(web.port, [stream], seconds, progress=progress, every=5 if seconds > 10 else 1)
        elapsed = time.monotonic() - started
        ticker.stop()
        lag_end = intake_log.lag()["oldest_seconds"]
        drain_s = drain(timeout=DRAIN_SECONDS)

        stats = tallies["intake"]
        runs = (warmup["intake"], calib["intake"], stats)
        books = account(list(runs), Report.objects.filter(service__slug=SLUG))
        bucketed = Bucket.objects.aggregate(n=Sum("total"))["n"] or 0
        server_errors = sum(n for t in runs for code, n in t.statuses.items() if code >= 500)
        requests = stats.answered
        result = {
            "database": database_url.split(":", 1)[0],
            "intake_log": mode.reason,
            "gunicorn_workers": args.workers,
            "capacity_rps": round(capacity, 1),
            "target_rps": round(rate, 1),
            "seconds": round(elapsed, 1),
            "requests": requests,
            "achieved_rps": round(requests / elapsed, 1) if elapsed else 0,
            "late_starts": stats.late,
            "load_held": requests / elapsed >= 0.95 * rate if elapsed else False,
            "load_average": round(max(load_avg, os.getloadavg()[0]), 1),
            "status": dict(sorted(stats.statuses.items())),
            "no_answer": sum(t.errors for t in runs),
            "server_errors_5xx": server_errors,
            "acknowledged_total": books.acknowledged,
            "acknowledged_from_log": books.from_log,
            "stored_total": books.stored,
            "lost": books.lost,
            "extra_rows": books.extra,
            "duplicate_ids": books.duplicate_answers,
            "duplicate_rows": books.duplicate_rows,
            "flusher_lag_max_s": max([*lags, lag_end]),
            "flusher_lag_at_end_s": lag_end,
            "drain_s": round(drain_s, 2),
            "bucketed_by_ticks": bucketed,
            "ticks_sent": ticker.sent,
            "latency_ms": {
                "p50": round(stats.percentile_ms(0.50), 1),
                "p95": round(stats.percentile_ms(0.95), 1),
                "p99": round(stats.percentile_ms(0.99), 1),
                "max": round(max(stats.latencies, default=float("nan")) * 1000, 1),
            },
        }
        # Every acknowledgement from the log, each stored once, nothing else stored, no 5xx.
        result["ok"] = books.exact and books.from_log == books.acknowledged and not books.duplicate_rows
        result["ok"] = result["ok"] and server_errors == 0
        if "Traceback" in web.log() + flusher.log():
            result["ok"] = False
            result["server_traceback"] = (web.log() + flusher.log())[-2000:]
        return result
    finally:
        for proc in reversed(processes):
            proc.stop()
        if cluster is not None:
            cluster.destroy()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="load duration (max 600)")
    parser.add_argument("--calibrate", type=float, default=10.0, help="capacity measurement duration")
    parser.add_argument("--load", type=float, default=0.8, help="fraction of the measured capacity")
    parser.add_argument("--threads", type=int, default=16, help="concurrent clients of the calibration")
    parser.add_argument("--tick", type=float, default=TICK_SECONDS, help="seconds between periodic task runs")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4, as bench/run)")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of a throwaway PostgreSQL")
    parser.add_argument("--database-url", help="an existing, empty database (migrated by the soak)")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args(argv)
    result = soak(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
