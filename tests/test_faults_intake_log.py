"""The intake log's degraded modes, with real processes: gunicorn, the flusher, an AOF redis-server, PostgreSQL.

Every test ends with the same check: the reports stored are exactly the ones
acknowledged (201), each once.
"""

import sys
import threading
import time

import httpx
import psycopg
import pytest

from tests.conftest import database_url_of_test_db
from tests.support.pgcluster import PG_BIN, PgCluster
from tests.support.servers import Gunicorn, Process, RedisServer, app_env, manage, once_per_suite_run

BODY = {"service": "tesla", "feature": "climate", "code": "503", "country": "FR"}
SETUP = (
    "from reports.services import service_create; "
    "service_create(slug='tesla', name='Tesla', features=['climate'])"
)


class Flusher(Process):
    def __init__(self, env: dict[str, str], log, name: str = "f1") -> None:
        super().__init__([sys.executable, "manage.py", "flush_intake", "--name", name], env, log)


class Reporter:
    """Sends reports, each from a new reporter, and keeps every answer."""

    def __init__(self, url: str, prefix: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=10)
        self.prefix, self.n, self.answers = prefix, 0, []
        # gunicorn listens before its workers have imported Django (seconds on a loaded machine).
        self.client.get("/health/", timeout=60)

    def send(self, count: int) -> list[httpx.Response]:
        out = []
        for _ in range(count):
            self.n += 1
            r = self.client.post("/api/v1/reports/", json=BODY, headers={"User-Agent": f"{self.prefix}-{self.n}"})
            out.append(r)
        self.answers += out
        return out

    def acknowledged(self) -> tuple[set[str], set[int]]:
        """(log entry ids, report ids) of the 201 answers."""
        ok = [r.json() for r in self.answers if r.status_code == 201]
        return {a["log_entry"] for a in ok if a["log_entry"]}, {a["id"] for a in ok if a["id"]}


def _stored(url: str) -> list[tuple[int, int | None]]:
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            return db.execute("SELECT id, log_entry FROM reports_report").fetchall()
    with psycopg.connect(url) as db:
        return db.execute("SELECT id, log_entry FROM reports_report").fetchall()


def _number(entry: str) -> int:
    ms, seq = entry.split("-")
    return int(ms) * 1_000_000 + int(seq)


def _assert_stored_once(url: str, reporter: Reporter, timeout: float = 60) -> None:
    entries, ids = reporter.acknowledged()
    want = {_number(e) for e in entries}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = _stored(url)
        if {e for _, e in rows if e is not None} >= want:
            break
        time.sleep(0.2)
    logged = [e for _, e in rows if e is not None]
    assert len(logged) == len(set(logged)), "a log entry stored twice"
    assert set(logged) == want, f"{len(want - set(logged))} acknowledged reports not stored"
    assert {i for i, e in rows if e is None} == ids  # the direct INSERTs, each answered with its id
    assert len(rows) == len(entries) + len(ids)


@pytest.fixture
def redis(tmp_path):
    server = RedisServer(tmp_path / "redis", aof=True).start()
    yield server
    server.stop()


def _env(redis: RedisServer, db_url: str, **extra: str) -> dict[str, str]:
    return app_env(
        DATABASE_URL=db_url, REDIS_URL=redis.url, TREMOR_CACHE_PREFIX=f"logfault-{redis.port}",
        TREMOR_REPORT_THROTTLE="100000/min", DB_CONN_MAX_AGE="0", **extra,
    )  # fmt: skip


@pytest.mark.skipif(not (PG_BIN / "initdb").exists(), reason="PostgreSQL 15 server not installed")
@once_per_suite_run("brings its own PostgreSQL cluster")
def test_postgres_down_intake_keeps_acknowledging_and_the_flusher_catches_up(redis, tmp_path):
    pg = PgCluster().init().start()
    try:
        env = _env(redis, pg.create_database())
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "shell", "-c", SETUP)
        web = Gunicorn(env, tmp_path / "web.log", workers=2).start()
        flusher = Flusher(env, tmp_path / "flusher.log").start()
        try:
            reporter = Reporter(web.url, "pg")
            assert {r.status_code for r in reporter.send(20)} == {201}
            _assert_stored_once(pg.url(), reporter)
            # Fast, not immediate: the test cluster runs synchronous_commit=off (tests/support/pgcluster.py),
            # so a crash would lose commits the flusher was told had been made, which production does not do.
            pg.stop("fast")
            down = reporter.send(40)
            assert [r.status_code for r in down] == [201] * 40, down[0].text
            assert all(r.json()["log_entry"] for r in down)
            time.sleep(2)  # the flusher fails its batches meanwhile, and acks none
            pg.start()
            _assert_stored_once(pg.url(), reporter)
            assert "Traceback" not in web.log()
        finally:
            flusher.stop()
            web.stop()
    finally:
        pg.destroy()


def test_a_flusher_killed_mid_batch_loses_and_doubles_nothing(redis, tesla, transactional_db, tmp_path):
    url = database_url_of_test_db()
    env = _env(redis, url, TREMOR_FLUSH_BATCH="25", TREMOR_FLUSH_RECLAIM_SECONDS="1")
    web = Gunicorn(env, tmp_path / "web.log", workers=2).start()
    reporters = [Reporter(web.url, f"k{i}") for i in range(3)]
    assert reporters[0].send(1)[0].status_code == 201  # the workers are up
    stop = threading.Event()

    def load(reporter: Reporter) -> None:
        while not stop.is_set():
            reporter.send(5)

    threads = [threading.Thread(target=load, args=(r,)) for r in reporters]
    for t in threads:
        t.start()
    flushers = []
    try:
        for round_ in range(6):  # alternate names: one takes its own pending entries back, one reclaims
            flusher = Flusher(env, tmp_path / f"flusher-{round_}.log", name=f"f{round_ % 2}").start()
            flushers.append(flusher)
            flusher.wait_for_log("started")
            time.sleep(0.5 + 0.3 * round_)
            flusher.kill()
        assert sum("reports stored" in f.log() for f in flushers) >= 3  # they did work before being killed
    finally:
        stop.set()
        for t in threads:
            t.join()
    last = Flusher(env, tmp_path / "flusher-last.log", name="f-last").start()
    try:
        everyone = Reporter(web.url, "none")
        everyone.answers = [a for r in reporters for a in r.answers]
        assert {a.status_code for a in everyone.answers} == {201}
        assert len(everyone.answers) > 50
        _assert_stored_once(url, everyone)
    finally:
        last.stop()
        web.stop()


def test_redis_down_means_direct_inserts_and_a_restart_replays_the_log(redis, tesla, transactional_db, tmp_path):
    url = database_url_of_test_db()
    env = _env(redis, url)
    web = Gunicorn(env, tmp_path / "web.log", workers=2).start()
    try:
        reporter = Reporter(web.url, "r")
        logged = reporter.send(15)  # no flusher yet: they wait in the log
        assert all(r.status_code == 201 and r.json()["log_entry"] for r in logged)
        redis.kill()  # SIGKILL: only what the AOF had fsynced survives
        direct = reporter.send(10)
        assert [r.status_code for r in direct] == [201] * 10
        assert all(r.json()["id"] and r.json()["log_entry"] is None for r in direct)  # stored, and says so
        redis.start()  # same port and directory: the AOF replays
        flusher = Flusher(env, tmp_path / "flusher.log").start()
        try:
            _assert_stored_once(url, reporter)
        finally:
            flusher.stop()
        assert "Traceback" not in web.log()
    finally:
        web.stop()
