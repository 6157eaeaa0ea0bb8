"""Webhooks end to end: the incident hook -> Redis -> a real Celery worker (queue `webhooks`) -> a receiver."""

import json
import os
import subprocess
import sys
import time

import pytest

from analytics.events import publish_incident_event
from tests.conftest import database_url_of_test_db
from tests.support.webhooks import subscribe
from tests.test_webhooks import make_incident
from webhooks import signing

EVENTS = ("incident.opened", "incident.updated", "incident.resolved")


@pytest.fixture
def webhook_worker(transactional_db, tmp_path):
    """A worker as production runs it for webhooks: its own queue, a thread pool, short backoffs for the test."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_test_db(),
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "TREMOR_WEBHOOK_BACKOFF_SECONDS": "0.2",
        "TREMOR_WEBHOOK_BACKOFF_MAX_SECONDS": "0.5",
        "TREMOR_WEBHOOK_TIMEOUT_SECONDS": "1",
    }
    log = open(tmp_path / "worker.log", "w+")
    args = ["-A", "config", "worker", "-Q", "webhooks", "--pool", "threads", "--concurrency", "4"]
    args += ["--loglevel", "INFO", "--without-heartbeat", "--without-mingle", "--without-gossip"]
    proc = subprocess.Popen([sys.executable, "-m", "celery", *args], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "ready." not in (log.seek(0) or log.read()):
        time.sleep(0.2)
    yield proc
    proc.terminate()
    proc.wait(timeout=10)


def test_a_real_worker_delivers_in_order_retries_and_never_lets_a_slow_endpoint_hold_up_others(
    tesla, django_user_model, receiver, webhook_worker
):
    owner = django_user_model.objects.create_user("newsroom")
    # /slow hangs past the 1 s timeout on its first request, /flaky answers 500 twice, /fast just works.
    receiver.behaviour = lambda path, n: {
        "/slow": (200, 3 if n == 1 else 0),
        "/flaky": (500 if n <= 2 else 200, 0),
    }.get(path, (200, 0))
    subs = {path: subscribe(owner, receiver.url(path)) for path in ("/slow", "/flaky", "/fast")}
    incident = make_incident(tesla)

    published = time.monotonic()
    for event in EVENTS:
        publish_incident_event(incident_id=incident.pk, event=event)

    assert receiver.wait_for(lambda: len(receiver.at("/fast")) == 3, timeout=15)
    # The fast subscriber had everything while the slow one was still hung on its first request.
    assert receiver.at("/fast")[-1].at - published < 2.5
    assert receiver.wait_for(lambda: len(receiver.at("/slow")) >= 4 and len(receiver.at("/flaky")) >= 5, timeout=20)
    time.sleep(0.5)  # nothing more should come

    for path, sub in subs.items():
        got = receiver.at(path)
        bodies = [json.loads(r.body) for r in got]
        for r in got:
            assert signing.verify(secret=sub.secret, body=r.body, header=r.headers[signing.HEADER])
        # First arrival of each event id, in order: opened, updated, resolved.
        first_seen = list(dict.fromkeys(b["id"] for b in bodies))
        assert [next(b["type"] for b in bodies if b["id"] == i) for i in first_seen] == list(EVENTS), path
    assert len(receiver.at("/fast")) == 3
    assert [r.headers["Tremor-Delivery-Attempt"] for r in receiver.at("/flaky")][:3] == ["1", "2", "3"]
    # The timed-out attempt was retried: same event id twice at /slow, then the other two.
    slow_ids = [json.loads(r.body)["id"] for r in receiver.at("/slow")]
    assert slow_ids[0] == slow_ids[1] and len(set(slow_ids)) == 3
