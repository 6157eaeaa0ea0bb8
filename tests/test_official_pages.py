"""The official status on the pages: beside Tremor's status, the lead on incidents, the home filter, stats."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from official import services
from official.lead import Mark, acknowledgement, lead_minutes, lead_stats
from official.parsing import Published, Snapshot
from reports.services import service_create
from tests.test_journalist_pages import open_incident

T0 = datetime(2021, 11, 19, 12, 0, tzinfo=UTC)


def test_the_acknowledgement_is_the_earliest_overlapping_official_sign():
    marks = [Mark(at=T0 + timedelta(minutes=40)), Mark(at=T0 + timedelta(minutes=29), incident_id=1),
             Mark(at=T0 - timedelta(days=2))]  # fmt: skip
    found = acknowledgement(started_at=T0, ended_at=T0 + timedelta(hours=1), now=T0, marks=marks)
    assert found == marks[1]
    assert acknowledgement(started_at=T0, ended_at=T0 + timedelta(minutes=20), now=T0, marks=marks) is None
    # An official incident opened before the crowd noticed, still open: it overlaps, Tremor was late.
    early = Mark(at=T0 - timedelta(hours=3), until=None, incident_id=2)
    assert acknowledgement(started_at=T0, ended_at=None, now=T0 + timedelta(hours=1), marks=[early]) is None
    early = Mark(at=T0 - timedelta(hours=3), until=T0 + timedelta(minutes=5), incident_id=2)
    assert acknowledgement(started_at=T0, ended_at=None, now=T0 + timedelta(hours=1), marks=[early]) == early
    assert lead_minutes(detected_at=T0, acknowledged_at=T0 + timedelta(minutes=23, seconds=10)) == 23
    assert lead_minutes(detected_at=T0, acknowledged_at=T0 - timedelta(minutes=7)) == -7


def test_lead_statistics_are_the_median_and_the_share_never_acknowledged():
    stats = lead_stats([10, None, 30, -5, None])
    assert (stats.incidents, stats.acknowledged, stats.median_lead_minutes) == (5, 3, 10.0)
    assert stats.never_acknowledged_share == pytest.approx(0.4)
    assert lead_stats([]).median_lead_minutes is None


@pytest.fixture
def source(tesla):
    src = services.source_set(service=tesla, kind="statuspage", url="https://status.tesla.example")
    services.record(source=src, snapshots=[Snapshot(status="operational")], now=timezone.now() - timedelta(days=1))
    return src


def acknowledge(source, *, at, ident="inc1", status="major_outage"):
    published = Published(external_id=ident, title="Owners locked out of the app", acknowledged_at=at,
                          state="investigating", url="https://stspg.io/inc1")  # fmt: skip
    services.record(source=source, snapshots=[Snapshot(status=status, changed_at=at, incidents=[published])],
                    now=timezone.now())  # fmt: skip


def test_the_service_page_shows_official_operational_while_tremor_sees_problems(client, tesla, source):
    open_incident(tesla, started_ago=timedelta(minutes=30))
    page = client.get("/status/tesla/").content.decode()
    assert "Official:</strong> operational" in page
    assert "the official status page does not (yet)" in page


def test_the_incident_page_tells_the_lead(client, tesla, source):
    incident = open_incident(tesla, started_ago=timedelta(minutes=90))
    acknowledge(source, at=incident.detected_at + timedelta(minutes=23))
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Tremor detected this 23 minutes before the official status page changed." in page
    assert "Owners locked out of the app" in page


def test_the_incident_page_says_so_when_tremor_was_later(client, tesla, source):
    incident = open_incident(tesla, started_ago=timedelta(minutes=90))
    acknowledge(source, at=incident.detected_at - timedelta(minutes=4))
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Tremor detected this 4 minutes after the official status page changed." in page


def test_a_never_acknowledged_incident_says_so_and_counts_in_the_statistics(client, tesla, source):
    late = open_incident(tesla, started_ago=timedelta(hours=10), status="resolved")
    acknowledge(source, at=late.detected_at + timedelta(minutes=40))
    silent = open_incident(tesla, started_ago=timedelta(hours=5), status="resolved")
    assert "never acknowledged this incident" in client.get(f"/incidents/{silent.pk}/").content.decode()
    page = client.get("/status/tesla/").content.decode()
    assert "median lead over the official status page: 40 minutes" in page
    assert "Never acknowledged officially: 50 %" in page


def test_the_home_page_filters_problems_not_acknowledged_officially(client, tesla, source):
    open_incident(tesla, started_ago=timedelta(minutes=30))
    slack = service_create(slug="slack", name="Slack")
    open_incident(slack, started_ago=timedelta(minutes=30))
    acknowledge(services.source_set(service=slack, kind="rss", url="https://slack.example/feed"),
                at=timezone.now() - timedelta(minutes=10))  # fmt: skip
    service_create(slug="quiet", name="Quiet")
    page = client.get("/?official=unacknowledged").content.decode()
    assert 'href="/status/tesla/"' in page and 'href="/status/slack/"' not in page
    assert 'href="/status/quiet/"' not in page
    assert 'href="/status/slack/"' in client.get("/").content.decode()
