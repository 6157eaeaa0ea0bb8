"""A Redis that stalls past the cache's 0.5 s socket timeout while it runs intake's script (found by bench/soak.py).

With `appendfsync always` Redis answers a write only once it is fsynced: on a
busy disk that can take longer than the socket timeout. The script has then run
(or runs once Redis reads the socket), so a timeout is not "Redis down". Intake
took it for that until session 7: a ~1 s stall answered a stored report 200 "not
counted" (the 60-s soak of 2 Dec saw 4 in 6,235), a longer one INSERTed it a
second time. Now the call is idempotent (a request id kept with the claim) and a
timeout is retried with longer timeouts (reports.redis_scripts.run_once); when
no retry gets an answer the report is answered 503, never stored another way.
`DEBUG SLEEP` stands in for the slow fsync: it holds the reply of every call.
"""

import threading
import time

import pytest
import redis as redis_py

from reports import flusher, intake_log, redis_scripts
from reports.api.throttles import ReportFormThrottle
from reports.models import Report
from tests.support.servers import RedisServer, cache_on

BODY = {"service": "tesla", "feature": "climate", "code": "503", "country": "FR"}
FORM = {"feature": "climate", "code": "none", "country": "FR"}
# Longer than the first attempt and every retry together: no attempt gets its answer.
BEYOND_RETRIES = 0.5 + sum(redis_scripts.RETRY_TIMEOUTS) + 1.5


def _stalling(tmp_path, *, aof: bool):
    server = RedisServer(tmp_path / "redis", aof=aof)
    server.cmd += ["--enable-debug-command", "local"]
    server.start()
    with cache_on(server, prefix="stall-test"):
        yield server
    server.stop()


@pytest.fixture
def stalling_redis(tmp_path):
    yield from _stalling(tmp_path, aof=True)


@pytest.fixture
def stalling_redis_without_aof(tmp_path):
    yield from _stalling(tmp_path, aof=False)


def _stall(server: RedisServer, seconds: float) -> threading.Thread:
    """Block the server for `seconds` (from another connection), as a slow fsync holds every reply."""
    blocker = threading.Thread(
        target=lambda: redis_py.Redis(port=server.port).execute_command("DEBUG", "SLEEP", str(seconds))
    )
    blocker.start()
    time.sleep(0.05)  # the DEBUG SLEEP reaches the server first
    return blocker


def _post(api, ua: str):
    return api.post("/api/v1/reports/", BODY, format="json", HTTP_USER_AGENT=ua)


def _flush_all() -> None:
    flusher.ensure_group()
    while intake_log.client().xlen(intake_log.stream_key()):
        flusher.flush_once(consumer="t", block_ms=10)


def _stored() -> tuple[int, int]:
    """(rows, distinct reporters): equal when no report was stored twice."""
    return Report.objects.count(), Report.objects.values("fingerprint").distinct().count()


@pytest.mark.parametrize("stall_seconds", [1.2, 3.0])
def test_a_report_sent_while_redis_stalls_is_answered_201_and_stored_once(api, tesla, stalling_redis, stall_seconds):
    assert intake_log.mode(fresh=True).logged
    assert _post(api, "before").status_code == 201  # catalog, scripts and connections warm
    blocker = _stall(stalling_redis, stall_seconds)
    answer = _post(api, "during")
    blocker.join()
    _flush_all()
    assert (answer.status_code, *_stored()) == (201, 2, 2)
    assert answer.json()["log_entry"]


def test_a_stall_longer_than_every_retry_is_answered_503_and_a_resend_is_not_stored_again(api, tesla, stalling_redis):
    assert intake_log.mode(fresh=True).logged
    assert _post(api, "before").status_code == 201
    blocker = _stall(stalling_redis, BEYOND_RETRIES)
    answer = _post(api, "during")
    blocker.join()
    assert answer.status_code == 503 and int(answer["Retry-After"]) > 0
    assert "may have been stored" in answer.json()["detail"]
    # The stalled script ran once Redis woke: the report is in the log, once.
    again = _post(api, "during")
    assert (again.status_code, again.json()["counted"]) == (200, False)
    _flush_all()
    assert _stored() == (2, 2) and not Report.objects.filter(log_entry__isnull=True).exists()


@pytest.fixture
def form_unthrottled(monkeypatch):
    """The form straight to its claim and append: its throttle's own call (no claim) would take the stall first."""
    rates = {**ReportFormThrottle.THROTTLE_RATES, "report_form": None}
    monkeypatch.setattr(ReportFormThrottle, "THROTTLE_RATES", rates)


@pytest.mark.parametrize(("stall_seconds", "answered"), [(1.2, 302), (BEYOND_RETRIES, 503)])
def test_the_form_waits_out_a_stall_or_answers_503_and_stores_the_report_once(
    client, tesla, stalling_redis, form_unthrottled, stall_seconds, answered
):
    assert intake_log.mode(fresh=True).logged
    url = f"/status/{tesla.slug}/report/"
    assert client.post(url, FORM, HTTP_USER_AGENT="before").status_code == 302
    blocker = _stall(stalling_redis, stall_seconds)
    answer = client.post(url, FORM, HTTP_USER_AGENT="during")
    blocker.join()
    _flush_all()
    assert (answer.status_code, *_stored()) == (answered, 2, 2)
    if answered == 302:
        assert answer["Location"].endswith("?counted=1")
    else:
        assert int(answer["Retry-After"]) > 0
    assert Report.objects.filter(log_entry__isnull=True).count() == 0  # both came through the log


def test_without_the_log_a_stall_beyond_the_retries_falls_back_to_one_direct_insert(
    api, tesla, stalling_redis_without_aof
):
    # Nothing goes to a log that Redis might hold: whatever the late script did, the database has no copy yet.
    assert not intake_log.mode(fresh=True).logged
    assert _post(api, "before").status_code == 201
    blocker = _stall(stalling_redis_without_aof, BEYOND_RETRIES)
    answer = _post(api, "during")
    blocker.join()
    assert (answer.status_code, answer.json()["id"], *_stored()) == (201, Report.objects.last().pk, 2, 2)


@pytest.mark.parametrize("path", ["api", "form"])
def test_a_call_sent_twice_appends_once_and_answers_alike(api, client, tesla, stalling_redis, monkeypatch, path):
    # What a retry after a lost reply does: the same request id again, for the same report.
    monkeypatch.setattr(intake_log, "request_id", lambda: "0123456789abcdef")
    if path == "api":
        first, second = _post(api, "twice"), _post(api, "twice")
        assert first.status_code == second.status_code == 201
        assert first.json()["log_entry"] == second.json()["log_entry"]
    else:
        url = f"/status/{tesla.slug}/report/"
        answers = [client.post(url, FORM, HTTP_USER_AGENT="twice") for _ in range(2)]
        assert [a["Location"].endswith("?counted=1") for a in answers] == [True, True]
    assert intake_log.client().xlen(intake_log.stream_key()) == 1
    # Another request of the same reporter is a duplicate as before.
    monkeypatch.setattr(intake_log, "request_id", lambda: "fedcba9876543210")
    assert _post(api, "twice").json()["counted"] is False
