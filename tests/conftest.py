import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from reports.catalog import catalog
from reports.services import service_create
from reports.tokens import token_create
from tests.support.receiver import Receiver

TESLA_FEATURES = [
    "app-login",
    "remote-unlock",
    "climate",
    "sentinel-mode",
    "honk-flash",
    "scheduling",
    "location",
    "supercharging",
]


def pytest_configure(config):
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        raise pytest.UsageError(
            f"The tests need a real Redis at REDIS_URL={settings.REDIS_URL} ({exc}). "
            "Run them with ./tremor test, which starts one."
        ) from None


@pytest.fixture(autouse=True)
def _fresh_state():
    # Dedupe claims and throttle history live in Redis; each test starts clean.
    cache.clear()
    catalog.invalidate()
    yield
    catalog.invalidate()


@pytest.fixture
def tesla(db):
    return service_create(slug="tesla", name="Tesla", homepage_url="https://www.tesla.com", features=TESLA_FEATURES)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def partner(db, django_user_model):
    user = django_user_model.objects.create_user("partner", password="x")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user, name='tests')[1]}")
    return client


@pytest.fixture
def receiver():
    """A real webhook receiver on 127.0.0.1 (tests.support.receiver), answering 200."""
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def owner(django_user_model):
    """The user who owns webhook subscriptions."""
    return django_user_model.objects.create_user("newsroom")


def database_url_of_test_db() -> str:
    """DATABASE_URL of the test database, for worker processes started by tests."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    from urllib.parse import quote

    auth = quote(db["USER"] or "", safe="") + (":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else "")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}{port}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """A real Celery worker (separate process) on the test Redis and test database."""
    import os
    import subprocess
    import sys
    import time

    env = {**os.environ, "DATABASE_URL": database_url_of_test_db(), "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    log = open(tmp_path / "worker.log", "w+")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        log.seek(0)
        if "ready." in log.read():
            break
        time.sleep(0.2)
    else:
        proc.kill()
        log.seek(0)
        raise RuntimeError("Celery worker did not start:\n" + log.read())
    yield proc
    proc.terminate()
    proc.wait(timeout=10)
