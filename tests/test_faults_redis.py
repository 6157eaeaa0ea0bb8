"""Redis stops during intake: reports are still accepted and stored, then bucketed once it is back.

A private redis-server (not the suite's shared one) serves a real gunicorn and a
real Celery worker; the test kills it mid-intake and starts it again on the same port.
"""

import subprocess
import sys
import time
from datetime import timedelta

import httpx
import pytest
from django.db.models import F, Sum

from analytics.models import Bucket
from reports.models import Report
from tests.conftest import database_url_of_test_db
from tests.support.servers import ROOT, CeleryWorker, Gunicorn, RedisServer, app_env

THROTTLE = 25  # per minute per client network: phase B sends more, throttled in each web process
BODY = {"service": "tesla", "feature": "climate", "code": "503", "country": "FR"}


@pytest.fixture
def stack(tesla, transactional_db, tmp_path):
    redis = RedisServer(tmp_path / "redis").start()
    env = app_env(
        DATABASE_URL=database_url_of_test_db(),
        REDIS_URL=redis.url,
        TREMOR_REPORT_THROTTLE=f"{THROTTLE}/min",
        DB_CONN_MAX_AGE="0",
    )
    web = Gunicorn(env, tmp_path / "gunicorn.log", workers=2).start()
    worker = CeleryWorker(env, tmp_path / "worker.log").start()
    yield redis, web, worker, env
    worker.stop()
    web.stop()
    redis.stop()


def _send(client: httpx.Client, ua: str) -> httpx.Response:
    return client.post("/api/v1/reports/", json=BODY, headers={"User-Agent": ua})


def test_intake_survives_a_redis_outage_and_bucketing_catches_up(stack):
    redis, web, worker, env = stack
    acknowledged: list[int] = []
    with httpx.Client(base_url=web.url, timeout=10) as client:
        # A: Redis up. Dedupe by Redis, throttle on.
        a = [_send(client, f"a-{i}") for i in range(10)]
        repeat_a = _send(client, "a-0")
        assert [r.status_code for r in a] == [201] * 10 and repeat_a.status_code == 200

        redis.kill()
        # B: Redis down. Still accepted and stored, dedupe by the database, and each of the two
        # web processes throttles on its own: 60 reports, the first 25 all stored, at most 2 x 25.
        t0 = time.monotonic()
        b = [_send(client, f"b-{i}") for i in range(60)]
        repeat_b = _send(client, "b-0")
        elapsed_b = time.monotonic() - t0
        codes = [r.status_code for r in b]
        assert codes[:THROTTLE] == [201] * THROTTLE, [r.text for r in b if r.status_code != 201][:3]
        assert set(codes) <= {201, 429} and codes.count(201) <= 2 * THROTTLE
        assert repeat_b.status_code == 429 or repeat_b.json()["counted"] is False

        redis.start()
        # C: Redis back (empty): throttling and Redis dedupe are on again.
        c = [_send(client, f"c-{i}") for i in range(THROTTLE + 1)]
        assert [r.status_code for r in c[:THROTTLE]] == [201] * THROTTLE
        assert c[THROTTLE].status_code == 429 and int(c[THROTTLE].headers["Retry-After"]) > 0
        acknowledged = [r.json()["id"] for r in a + b + c if r.status_code == 201]

    print(f"Redis down: 61 requests in {elapsed_b:.2f}s, all answered; {len(acknowledged)} reports acknowledged")
    assert sorted(Report.objects.values_list("id", flat=True)) == sorted(acknowledged)

    # Live reports are bucketed once their minute has closed: age them by a minute
    # instead of waiting for the clock.
    Report.objects.update(observed_at=F("observed_at") - timedelta(seconds=61))
    # The worker lost its broker with Redis; it reconnects and takes the next tick.
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", "call", "analytics.tasks.bucket_reports"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=30,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (Bucket.objects.aggregate(n=Sum("total"))["n"] or 0) < len(acknowledged):
        time.sleep(0.2)
    assert Bucket.objects.aggregate(n=Sum("total"))["n"] == len(acknowledged) == 10 + codes.count(201) + THROTTLE
    assert "Traceback" not in web.log()
