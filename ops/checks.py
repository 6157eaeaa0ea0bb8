"""Readiness checks: can this process serve? Each returns details and raises when it cannot.

Database, Redis and migrations decide readiness (no page or report works without them);
the Celery workers' last stamp is reported but does not take the web out of the load
balancer: reports are still accepted and bucketed later when workers come back.
"""

import time
from collections.abc import Callable
from functools import cache

import redis
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from common import heartbeat
from reports import intake_log

# A worker task runs at least every minute (beat's bucketing and tick): older means none is working.
WORKER_MAX_AGE_SECONDS = 180
TIMEOUT_SECONDS = 1.0


class NotReady(Exception):
    pass


@cache
def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)


def database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def redis_ping() -> dict:
    redis_client(settings.REDIS_URL).ping()
    return {}


_migrated = False


def migrations() -> dict:
    # Once applied they stay applied for this process: the migration graph is read only until then.
    global _migrated
    if not _migrated:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            raise NotReady(f"{len(pending)} migration(s) not applied (manage.py migrate)")
        _migrated = True
    return {}


def workers() -> dict:
    seen = heartbeat.last("worker")
    if seen is None:
        return {"warning": "no Celery worker has run a task yet"}
    age = time.time() - seen["at"]
    out = {"last_task_seconds_ago": round(age, 1)}
    if age > WORKER_MAX_AGE_SECONDS:
        out["warning"] = f"no Celery task for {age:.0f} s"
    return out


# A report waits this long in the intake log only when no flusher works (or the database is down).
FLUSHER_MAX_LAG_SECONDS = 60


def intake_log_state() -> dict:
    """How single reports are stored now, and how far the flusher lags (reported, never blocks intake)."""
    mode = intake_log.mode()
    out = {"mode": "log" if mode.logged else "direct", "reason": mode.reason, **intake_log.lag()}
    if out["oldest_seconds"] > FLUSHER_MAX_LAG_SECONDS:
        out["warning"] = f"the oldest report has waited {out['oldest_seconds']:.0f} s in the intake log (flusher?)"
    elif not mode.logged:
        out["warning"] = f"intake INSERTs each report: {mode.reason}"
    return out


# name -> (check, whether a failure makes the process not ready)
CHECKS: dict[str, tuple[Callable[[], dict], bool]] = {
    "database": (database, True),
    "redis": (redis_ping, True),
    "migrations": (migrations, True),
    "workers": (workers, False),
    "intake_log": (intake_log_state, False),
}


def run_checks() -> tuple[bool, dict[str, dict]]:
    ready, results = True, {}
    for name, (check, required) in CHECKS.items():
        started = time.perf_counter()
        try:
            result = {"ok": True, **check()}
        except Exception as exc:  # any failure of a dependency is an answer here, not a 500
            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
            ready = ready and not required
        result["ms"] = round((time.perf_counter() - started) * 1000, 1)
        results[name] = result
    return ready, results
