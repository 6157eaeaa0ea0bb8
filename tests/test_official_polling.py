"""Polling official status pages: a real local status page that behaves, then misbehaves on demand."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from official import services
from official.models import OfficialIncident, Source, StatusChange
from tests.support.status_server import (
    INCIDENTS,
    RSS,
    SUMMARY,
    StatusServer,
    rss,
    statuspage_incident,
    statuspage_summary,
)

NOW = datetime(2021, 11, 19, 12, 0, tzinfo=UTC)


@pytest.fixture
def page():
    server = StatusServer().start()
    yield server
    server.stop()


@pytest.fixture
def source(tesla, page):
    return services.source_set(service=tesla, kind="statuspage", url=page.base)


@pytest.fixture
def fast(settings):
    settings.TREMOR_OFFICIAL_TIMEOUT_SECONDS = 1.5
    settings.TREMOR_OFFICIAL_POLL_SECONDS = 180
    settings.TREMOR_OFFICIAL_BACKOFF_MAX_SECONDS = 3600
    return settings


def poll(source, now=NOW) -> bool:
    return services.poll(source_id=source.pk, now=now)


def test_it_stores_status_changes_and_incidents(source, page):
    assert poll(source)
    source.refresh_from_db()
    assert source.status == "operational" and source.last_error == ""
    page.summary = statuspage_summary(
        "major",
        updated_at="2021-11-19T12:03:00Z",
        incidents=[statuspage_incident("abc", created_at="2021-11-19T12:02:00Z")],
    )
    page.incidents = {"incidents": [statuspage_incident("abc", created_at="2021-11-19T12:02:00Z")]}
    assert poll(source, NOW + timedelta(minutes=5))
    source.refresh_from_db()
    assert source.status == "partial_outage"
    change = StatusChange.objects.get(source=source, status="partial_outage")
    assert change.previous == "operational" and change.changed_at == datetime(2021, 11, 19, 12, 3, tzinfo=UTC)
    incident = OfficialIncident.objects.get(source=source)
    assert incident.acknowledged_at == datetime(2021, 11, 19, 12, 2, tzinfo=UTC) and incident.state == "investigating"


def test_it_asks_conditionally_and_stores_nothing_twice(source, page):
    page.incidents = {"incidents": [statuspage_incident("abc", created_at="2021-11-19T11:00:00Z")]}
    assert poll(source) and poll(source, NOW + timedelta(minutes=3))
    second = [headers for path, headers in page.requests[2:] if path == SUMMARY]
    assert second and second[0].get("If-None-Match", "").startswith('"')
    assert OfficialIncident.objects.count() == 1 and StatusChange.objects.count() == 1


def test_it_reads_an_rss_feed(tesla, page):
    src = services.source_set(service=tesla, kind="rss", url=page.base + RSS)
    page.feed = rss([("p1", "Investigating login problems", "Fri, 19 Nov 2021 11:40:00 GMT")])
    assert poll(src)
    src.refresh_from_db()
    assert src.status == "degraded"
    assert OfficialIncident.objects.get(source=src).acknowledged_at == datetime(2021, 11, 19, 11, 40, tzinfo=UTC)
    page.feed = rss([("p2", "Resolved: login works again", "Fri, 19 Nov 2021 12:30:00 GMT")])
    assert poll(src, NOW + timedelta(hours=1))
    src.refresh_from_db()
    assert src.status == "operational" and OfficialIncident.objects.filter(source=src).count() == 2


def test_a_feed_is_asked_if_modified_since_and_the_task_can_run_twice(tesla, page):
    from official.tasks import poll as poll_task

    src = services.source_set(service=tesla, kind="rss", url=page.base + RSS)
    page.feed = rss([("p1", "Investigating login problems", "Fri, 19 Nov 2021 11:40:00 GMT")])
    poll_task(src.pk)
    poll_task(src.pk)
    asked = [headers.get("If-Modified-Since") for path, headers in page.requests if path == RSS]
    assert asked == [None, "Fri, 19 Nov 2021 11:40:00 GMT"]
    assert OfficialIncident.objects.count() == 1 and StatusChange.objects.count() == 1


def test_errors_back_off_exponentially_and_a_success_resets(source, page, fast):
    page.misbehave[SUMMARY] = "500"
    waits = []
    for _ in range(4):
        assert not poll(source)
        source.refresh_from_db()
        waits.append((source.next_poll_at - NOW).total_seconds())
    assert waits == [360, 720, 1440, 2880]
    assert source.consecutive_failures == 4 and "HTTP 500" in source.last_error
    page.misbehave.clear()
    assert poll(source)
    source.refresh_from_db()
    assert source.consecutive_failures == 0 and (source.next_poll_at - NOW).total_seconds() == 180


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("stall", "timeout"),
        ("huge", "over the limit"),
        ("badjson", "invalid JSON"),
        ("metadata-redirect", "link-local"),
    ],
)
def test_a_hostile_page_costs_one_bounded_failed_poll(source, page, fast, mode, error):
    page.misbehave[SUMMARY] = mode
    started = time.monotonic()
    assert not poll(source)
    assert time.monotonic() - started < fast.TREMOR_OFFICIAL_TIMEOUT_SECONDS + 1  # the 10 s stall is cut short
    source.refresh_from_db()
    assert error in source.last_error and source.consecutive_failures == 1
    assert source.status == "unknown" and not OfficialIncident.objects.exists()
    page.misbehave.clear()
    assert poll(source)  # and the next poll of the same page works


def test_the_metadata_redirect_is_refused_before_any_connection(source, page, fast, monkeypatch):
    import socket

    connected = []
    real = socket.create_connection
    monkeypatch.setattr(
        socket, "create_connection", lambda addr, *a, **k: connected.append(addr) or real(addr, *a, **k)
    )
    page.misbehave[SUMMARY] = "metadata-redirect"
    assert not poll(source)
    assert [host for host, _port in connected] == ["127.0.0.1"]


def test_outside_debug_a_loopback_page_is_refused(source, page, settings):
    settings.TREMOR_OFFICIAL_ALLOW_PRIVATE_TARGETS = False
    assert not poll(source)
    source.refresh_from_db()
    assert "non-public address" in source.last_error and page.requests == []


def test_due_sources_are_claimed_once_and_a_host_is_asked_at_most_twice_a_minute(db, page, fast):
    from reports.services import service_create

    for n in range(5):
        services.source_set(service=service_create(slug=f"s{n}", name=f"S{n}"), kind="statuspage", url=page.base)
    first = services.claim_due(now=NOW)
    assert len(first) == 2 and services.claim_due(now=NOW) == []
    assert len(services.claim_due(now=NOW + timedelta(seconds=61))) == 2


def test_the_worker_stays_healthy_through_every_misbehaviour(celery_worker_process, page, tesla):
    """A real worker process polls a hostile page in every way, then a good one: it still answers."""
    from official.tasks import poll as poll_task

    src = services.source_set(service=tesla, kind="statuspage", url=page.base)
    deadline = time.monotonic() + 90
    for failures, mode in enumerate(("huge", "badjson", "metadata-redirect", "500", "stall"), start=1):
        page.misbehave[SUMMARY] = mode
        poll_task.apply_async((src.pk,), queue="celery")
        while Source.objects.get(pk=src.pk).consecutive_failures < failures and time.monotonic() < deadline:
            time.sleep(0.1)
        assert Source.objects.get(pk=src.pk).consecutive_failures == failures, mode
    page.misbehave.clear()
    poll_task.apply_async((src.pk,), queue="celery")
    while Source.objects.get(pk=src.pk).status != "operational" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert Source.objects.get(pk=src.pk).status == "operational"
    assert celery_worker_process.poll() is None  # alive
    assert INCIDENTS in {path for path, _ in page.requests}
