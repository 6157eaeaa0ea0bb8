"""PostgreSQL restarts during intake: 503 + Retry-After while it is down, nothing acknowledged is lost.

A real cluster of its own (own data directory and port) is stopped and started
under a real gunicorn server while clients keep reporting.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

from tests.support.pgcluster import PG_BIN, PgCluster
from tests.support.servers import Gunicorn, app_env, manage, once_per_suite_run

pytestmark = [
    pytest.mark.skipif(not (PG_BIN / "initdb").exists(), reason="PostgreSQL 15 server not installed"),
    once_per_suite_run("brings its own PostgreSQL cluster"),
]

SETUP = (
    "from reports.services import service_create; "
    "service_create(slug='tesla', name='Tesla', features=['climate', 'remote-unlock'])"
)


@pytest.fixture
def cluster():
    pg = PgCluster().init().start()
    yield pg
    pg.destroy()


@pytest.fixture
def server(cluster, tmp_path):
    env = app_env(
        DATABASE_URL=cluster.create_database(),
        TREMOR_CACHE_PREFIX=f"pgfault-{cluster.port}",
        TREMOR_REPORT_THROTTLE="100000/min",
    )
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "shell", "-c", SETUP)
    web = Gunicorn(env, tmp_path / "gunicorn.log", workers=2).start()
    yield web
    web.stop()


class Load:
    """Clients reporting as fast as the server answers, each report from a new reporter."""

    def __init__(self, url: str, threads: int = 4) -> None:
        self.url, self.threads = url, threads
        self.results: list[tuple[float, int, dict, dict]] = []
        self._stop = threading.Event()
        self._n = 0
        self._lock = threading.Lock()

    def _run(self, worker: int) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            deadline = time.monotonic() + 60  # bounded even if stop() were never called
            while not self._stop.is_set() and time.monotonic() < deadline:
                with self._lock:
                    self._n += 1
                    n = self._n
                body = {"service": "tesla", "feature": "climate", "code": "503", "country": "FR"}
                try:
                    r = client.post("/api/v1/reports/", json=body, headers={"User-Agent": f"fault-{n}"})
                except httpx.HTTPError:
                    continue  # no answer, no acknowledgement
                data = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
                self.results.append((time.monotonic(), r.status_code, dict(r.headers), data))

    def __enter__(self):
        self._pool = ThreadPoolExecutor(self.threads)
        self._futures = [self._pool.submit(self._run, i) for i in range(self.threads)]
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for f in self._futures:
            f.result()
        self._pool.shutdown()


def _count(cluster: PgCluster) -> tuple[int, set[int]]:
    with psycopg.connect(cluster.url()) as conn:
        ids = {row[0] for row in conn.execute("SELECT id FROM reports_report")}
    return len(ids), ids


def test_a_postgres_restart_answers_503_and_loses_no_acknowledged_report(cluster, server):
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        # Warm both workers (imports, connections) before the clock matters.
        for _ in range(4):
            browser.get("/status/tesla/")
        form = browser.get("/status/tesla/report/")
        assert form.status_code == 200
        csrf = browser.cookies["csrftoken"]

        with Load(server.url) as load:
            time.sleep(1.5)
            cluster.stop("fast")
            time.sleep(1.0)
            # Pages and the form answer 503 too while the database is away.
            page = browser.get("/status/tesla/")
            posted = browser.post(
                "/status/tesla/report/",
                data={"feature": "climate", "code": "503", "country": "FR", "csrfmiddlewaretoken": csrf},
                headers={"Referer": server.url + "/status/tesla/report/"},
            )
            time.sleep(1.0)
            cluster.start()
            time.sleep(2.0)

    statuses = [status for _, status, _, _ in load.results]
    acknowledged = [data["id"] for _, status, _, data in load.results if status == 201]
    unavailable = [headers for _, status, headers, _ in load.results if status == 503]
    print(f"{len(statuses)} requests: {len(acknowledged)} acknowledged (201), {len(unavailable)} answered 503")

    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert posted.status_code == 503 and posted.headers["Retry-After"] == "5"
    assert "Traceback" not in page.text + posted.text
    assert set(statuses) <= {201, 503}, sorted(set(statuses))
    assert unavailable and all(h.get("retry-after") == "5" for h in unavailable)
    # Reports were acknowledged both before the stop and after the restart.
    t_first_503 = min(t for t, status, _, _ in load.results if status == 503)
    t_last_503 = max(t for t, status, _, _ in load.results if status == 503)
    assert any(t < t_first_503 for t, status, _, _ in load.results if status == 201)
    assert any(t > t_last_503 for t, status, _, _ in load.results if status == 201)

    stored, ids = _count(cluster)
    assert len(set(acknowledged)) == len(acknowledged)  # no id handed out twice
    assert set(acknowledged) == ids  # every acknowledged report is there, nothing else is
    assert stored == len(acknowledged)
    assert "Traceback" not in server.log()
