"""Soak test: intake at 80% of its measured capacity for a while, with the beat tick running.

    .venv/bin/python -m bench.soak [--seconds 60] [--calibrate 10] [--load 0.8] [--json FILE]

Starts its own stack on 127.0.0.1 only (a throwaway PostgreSQL cluster, or SQLite
with --sqlite; a private Redis; gunicorn; a Celery worker), measures the intake
capacity with a closed loop, then sends an open-loop paced load at `--load` of it
from this separate process while a ticker enqueues the bucketing (and detection,
when it exists) tasks every few seconds, as beat does every minute. Every request
comes from a new reporter (its own User-Agent), so dedupe stores each one.

Afterwards: reports stored == reports acknowledged (201), zero 5xx, latency
percentiles. Exits 1 if anything was lost, counted twice, or answered 5xx.
Bounded: at most 600 s of load, every loop has a deadline.
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
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.pgcluster import PG_BIN, PgCluster  # noqa: E402
from tests.support.servers import CeleryWorker, Gunicorn, RedisServer, app_env, manage  # noqa: E402

MAX_SECONDS = 600
TICK_SECONDS = 5.0
TICK_TASKS = ["analytics.tasks.bucket_reports"]
SLUG = "soak"
SETUP = f"from reports.services import service_create; service_create(slug={SLUG!r}, name='Soak', features=['login'])"


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.status: Counter[int] = Counter()
        self.latencies: list[float] = []
        self.acked: list[int] = []
        self.errors = 0

    def record(self, status: int, latency: float, report_id: int | None) -> None:
        with self.lock:
            self.status[status] += 1
            self.latencies.append(latency)
            if status == 201 and report_id is not None:
                self.acked.append(report_id)


class Client:
    """Sends reports, each from a new reporter (distinct User-Agent)."""

    def __init__(self, url: str, run_id: str) -> None:
        self.url, self.run_id = url, run_id
        self._n = 0
        self._lock = threading.Lock()
        self._local = threading.local()

    def _http(self) -> httpx.Client:
        if not hasattr(self._local, "client"):
            self._local.client = httpx.Client(base_url=self.url, timeout=30)
        return self._local.client

    def send(self, stats: Stats) -> None:
        with self._lock:
            self._n += 1
            n = self._n
        body = {"service": SLUG, "feature": "login", "code": "503", "country": "FR"}
        t0 = time.perf_counter()
        try:
            r = self._http().post("/api/v1/reports/", json=body, headers={"User-Agent": f"soak-{self.run_id}-{n}"})
        except httpx.HTTPError:
            with stats.lock:
                stats.errors += 1  # no answer: not acknowledged
            return
        latency = time.perf_counter() - t0
        report_id = r.json().get("id") if r.status_code == 201 else None
        stats.record(r.status_code, latency, report_id)


def closed_loop(client: Client, threads: int, seconds: float) -> tuple[float, Stats]:
    """Capacity: as many requests as `threads` clients get answered, back to back."""
    stats, deadline = Stats(), time.monotonic() + seconds

    def loop() -> None:
        while time.monotonic() < deadline:
            client.send(stats)

    t0 = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        for f in [pool.submit(loop) for _ in range(threads)]:
            f.result()
    return sum(stats.status.values()) / (time.monotonic() - t0), stats


def open_loop(client: Client, rate: float, seconds: float, threads: int) -> tuple[Stats, float, int]:
    """Paced load: request i is due at start + i/rate, whatever the answers do."""
    stats, total = Stats(), int(rate * seconds)
    lock, state = threading.Lock(), {"next": 0}
    late = Counter()
    start = time.monotonic() + 0.2
    stop_at = start + seconds  # requests not started by then are not sent (counted as shed)

    def loop() -> None:
        while time.monotonic() < stop_at:
            with lock:
                i = state["next"]
                if i >= total:
                    return
                state["next"] += 1
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.25:
                late["late"] += 1
            client.send(stats)

    with ThreadPoolExecutor(threads) as pool:
        for f in [pool.submit(loop) for _ in range(threads)]:
            f.result()
    return stats, min(time.monotonic(), stop_at) - start, late["late"]


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


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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
    cluster = None
    processes: list = []
    try:
        if args.database_url:
            database_url = args.database_url
        elif args.sqlite or not (PG_BIN / "initdb").exists():
            database_url = f"sqlite:///{workdir / 'soak.sqlite3'}"
        else:
            cluster = PgCluster().init().start()
            database_url = cluster.create_database()
        redis = RedisServer(workdir / "redis").start()
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
        os.environ.update({"DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings_test"})
        import django

        django.setup()
        from django.db.models import Sum

        from analytics.models import Bucket
        from reports.models import Report

        web = Gunicorn(env, workdir / "gunicorn.log", workers=args.workers).start()
        processes.append(web)
        worker = CeleryWorker(env, workdir / "worker.log")
        processes.append(worker.start())

        client = Client(web.url, run_id=str(os.getpid()))
        _, warmup = closed_loop(client, args.threads, min(1.0, args.calibrate))  # imports, connections
        # Capacity is measured with the tick running too: it shares the machine with intake.
        ticker = Ticker(redis.url, _tick_tasks(), every=args.tick)
        ticker.start()
        capacity, calib = closed_loop(client, args.threads, args.calibrate)
        assert sum(calib.status.values()) > 0, "no request was answered during calibration"
        rate = max(1.0, capacity * args.load)
        # Enough clients in flight for the paced rate at twice the calibration latency (Little's law).
        latency = sum(calib.latencies) / max(1, len(calib.latencies))
        threads = min(64, max(args.threads, int(rate * latency * 2) + 1))
        stats, elapsed, late = open_loop(client, rate, seconds, threads)
        ticker.stop()

        time.sleep(0.5)
        runs = (warmup, calib, stats)
        stored = Report.objects.filter(service__slug=SLUG).count()
        acked = [i for run in runs for i in run.acked]
        acked_all = len(acked)
        ids = set(Report.objects.filter(service__slug=SLUG).values_list("id", flat=True))
        lost = len(set(acked) - ids)
        bucketed = Bucket.objects.aggregate(n=Sum("total"))["n"] or 0
        server_errors = sum(n for run in runs for code, n in run.status.items() if code >= 500)
        requests = sum(stats.status.values())
        result = {
            "database": database_url.split(":", 1)[0],
            "gunicorn_workers": args.workers,
            "client_threads": threads,
            "capacity_rps": round(capacity, 1),
            "target_rps": round(rate, 1),
            "seconds": round(elapsed, 1),
            "requests": requests,
            "achieved_rps": round(requests / elapsed, 1) if elapsed else 0,
            "late_starts": late,
            "shed_not_sent": int(rate * seconds) - requests - stats.errors,
            "load_held": requests / elapsed >= 0.95 * rate if elapsed else False,
            "status": dict(sorted(stats.status.items())),
            "no_answer": sum(run.errors for run in runs),
            "server_errors_5xx": server_errors,
            "acknowledged_total": acked_all,
            "stored_total": stored,
            "lost": lost,
            "extra_rows": len(ids - set(acked)),
            "duplicate_ids": acked_all - len(set(acked)),
            "bucketed_by_ticks": bucketed,
            "ticks_sent": ticker.sent,
            "latency_ms": {
                "p50": round(percentile(stats.latencies, 0.50) * 1000, 1),
                "p95": round(percentile(stats.latencies, 0.95) * 1000, 1),
                "p99": round(percentile(stats.latencies, 0.99) * 1000, 1),
                "max": round(max(stats.latencies, default=float("nan")) * 1000, 1),
            },
            "ok": server_errors == 0 and lost == 0 and stored == acked_all == len(set(acked)),
        }
        if "Traceback" in web.log():
            result["ok"] = False
            result["server_traceback"] = web.log()[-2000:]
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
    parser.add_argument("--threads", type=int, default=16, help="client threads")
    parser.add_argument("--tick", type=float, default=TICK_SECONDS, help="seconds between periodic task runs")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
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
