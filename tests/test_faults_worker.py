"""Celery workers killed mid-run, and two of them running the same periodic task at once.

Real worker processes on the suite's Redis and test database; bucketing writes
absolute counts, so whatever was half done is completed exactly once.
"""

import time
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Sum
from django.utils import timezone

from analytics.models import Bucket, BucketSlice, Incident
from analytics.tasks import bucket_reports
from reports.models import Report
from tests.conftest import database_url_of_test_db
from tests.support.servers import CeleryWorker, app_env

# Four runs of minutes more than 30 minutes apart: four separate upserts per bucketing run.
AGES_MINUTES = (200, 140, 80, 5)
PER_MINUTE = 7


def _reports(service, now) -> int:
    feature = service.features.get(slug="climate")
    rows = []
    for age in AGES_MINUTES:
        for offset in range(3):  # three consecutive minutes per run
            at = now - timedelta(minutes=age + offset)
            rows += [
                Report(
                    service=service,
                    feature=feature,
                    code=code,
                    country="FR",
                    region="EU",
                    observed_at=at,
                    received_at=at,
                    source="api",
                )
                for code in ("503", "500")
                for _ in range(PER_MINUTE)
            ]
    Report.objects.bulk_create(rows)
    return len(rows)


def _total() -> int:
    return Bucket.objects.aggregate(n=Sum("total"))["n"] or 0


def _wait_for_total(expected: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _total() != expected:
        time.sleep(0.2)
    return _total()


def _env(**extra: str) -> dict[str, str]:
    return app_env(DATABASE_URL=database_url_of_test_db(), **extra)


def test_a_worker_killed_mid_bucketing_leaves_the_next_run_to_finish_exactly_once(tesla, transactional_db, tmp_path):
    total = _reports(tesla, timezone.now())
    slow = CeleryWorker(_env(TREMOR_FAULT_DELAY="5"), tmp_path / "slow.log", app="tests.support.slow_celery").start()
    try:
        bucket_reports.delay()
        slow.wait_for_log("FAULT-HOOK bucketed")
        slow.kill()  # SIGKILL between two upserts of one run
    finally:
        slow.stop()
    partial = _total()
    assert 0 < partial < total, "the worker should have died half way"

    worker = CeleryWorker(_env(), tmp_path / "worker.log", name="w2").start()
    try:
        bucket_reports.delay()  # the next beat tick
        assert _wait_for_total(total) == total
        bucket_reports.delay()  # and one more: still exactly once
        time.sleep(1.5)
    finally:
        worker.stop()
    print(f"killed after {partial} of {total} reports were bucketed; the next run completed {total}")
    assert _total() == total
    assert BucketSlice.objects.filter(minute=Bucket.objects.order_by("minute").first().minute).count() == 2


def test_two_workers_running_bucketing_at_once_never_double_count(tesla, transactional_db, tmp_path):
    total = _reports(tesla, timezone.now())
    # Slowed (0.3 s per upsert) so that the runs of the two workers really overlap,
    # as with two beat schedulers firing the same tick.
    env = _env(TREMOR_FAULT_DELAY="0.3")
    workers = [
        CeleryWorker(env, tmp_path / f"w{i}.log", app="tests.support.slow_celery", name=f"w{i}").start()
        for i in range(2)
    ]
    try:
        for _ in range(6):
            bucket_reports.delay()
        for w in workers:
            w.wait_for_log("FAULT-HOOK bucketed", timeout=30)
        assert _wait_for_total(total) == total
        time.sleep(3)  # let every queued run finish
        logs = [w.log().count("succeeded in") for w in workers]
    finally:
        for w in workers:
            w.stop()
    assert all(n >= 1 for n in logs), logs  # both workers did run it
    assert _total() == total


def _open_incident(service_id: int, results: list, barrier) -> None:
    now = timezone.now()
    try:
        barrier.wait(timeout=10)
        with transaction.atomic():
            Incident.objects.create(
                service_id=service_id,
                started_at=now,
                detected_at=now,
                peak_at=now,
                peak_reports_per_minute=50,
                baseline_at_peak=2,
                excess_reports=48,
            )
        results.append("created")
    except IntegrityError:
        results.append("refused")
    finally:
        connections.close_all()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="concurrent writers need PostgreSQL")
def test_two_ticks_racing_cannot_open_two_ongoing_incidents(tesla, transactional_db):
    import threading

    assert connection.vendor == "postgresql"
    results: list[str] = []
    barrier = threading.Barrier(4)
    threads = [threading.Thread(target=_open_incident, args=(tesla.id, results, barrier)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert sorted(results) == ["created", "refused", "refused", "refused"]
    assert Incident.objects.filter(service=tesla, status="ongoing").count() == 1
