"""Readiness with real processes: a gunicorn whose Redis, then whose PostgreSQL, goes away and comes back.

Liveness stays 200 throughout (restarting the web would not bring a store back); readiness
answers 503 naming the store that is down, and 200 again once it answers.
"""

import time

import httpx
import pytest

from tests.support.pgcluster import PG_BIN, PgCluster
from tests.support.servers import Gunicorn, RedisServer, app_env, manage, once_per_suite_run

pytestmark = once_per_suite_run("brings its own Redis and PostgreSQL")


def ready(url: str) -> tuple[int, dict]:
    response = httpx.get(f"{url}/health/ready/", timeout=10)
    return response.status_code, response.json()


def wait_ready(url: str, status: int, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        code, body = ready(url)
        if code == status or time.monotonic() > deadline:
            assert code == status, body
            return body
        time.sleep(0.3)


@pytest.fixture
def cluster():
    if not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL 15 server not installed")
    pg = PgCluster().init().start()
    yield pg
    pg.destroy()


@pytest.fixture
def stack(cluster, tmp_path):
    redis = RedisServer(tmp_path / "redis").start()
    env = app_env(DATABASE_URL=cluster.create_database(), REDIS_URL=redis.url, TREMOR_CACHE_PREFIX="ready")
    manage(env, "migrate", "--noinput", "-v", "0")
    web = Gunicorn(env, tmp_path / "gunicorn.log", workers=1).start()
    yield web, redis, cluster
    web.stop()
    redis.stop()


def test_readiness_fails_while_redis_is_down_and_recovers(stack):
    web, redis, _ = stack
    assert wait_ready(web.url, 200)["checks"]["redis"]["ok"] is True
    redis.kill()
    body = wait_ready(web.url, 503)
    assert body["checks"]["redis"]["ok"] is False and body["checks"]["database"]["ok"] is True
    assert httpx.get(f"{web.url}/health/").status_code == 200
    redis.start()
    wait_ready(web.url, 200)


def test_readiness_fails_while_postgresql_is_down_and_recovers(stack):
    web, _, cluster = stack
    wait_ready(web.url, 200)
    cluster.stop("immediate")
    body = wait_ready(web.url, 503)
    assert body["checks"]["database"]["ok"] is False and body["checks"]["redis"]["ok"] is True
    assert httpx.get(f"{web.url}/health/").status_code == 200
    cluster.start()
    wait_ready(web.url, 200)
    assert "Traceback" not in web.log()
