"""The demo's official status page: served by the web process, polled for real, acknowledging late."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import Incident, Level
from demo import official_page, scenarios
from official import selectors, services
from official.models import OfficialIncident
from reports.services import service_create


def test_the_page_acknowledges_the_replayed_outage_late_and_resolves_it():
    seeded = timezone.now()
    truth = scenarios.demo_truth(now=seeded)
    onset, end = truth["onset"].to_pydatetime(), truth["end"].to_pydatetime()
    before = official_page.documents(seeded_at=seeded, now=onset + timedelta(minutes=44))
    assert before["summary.json"]["status"]["indicator"] == "none" and before["incidents.json"]["incidents"] == []
    during = official_page.documents(seeded_at=seeded, now=onset + timedelta(minutes=46))
    assert during["summary.json"]["status"]["indicator"] == "major"
    after = official_page.documents(seeded_at=seeded, now=seeded)
    (incident,) = after["incidents.json"]["incidents"]
    assert incident["created_at"] == (onset + timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert incident["status"] == "resolved" and end < seeded


@pytest.fixture
def demo_page(live_server, settings):
    settings.TREMOR_DEMO_STATUS_PAGE = True
    return f"{live_server.url}/demo/status-page"


def test_the_poller_reads_the_demo_page_and_the_lead_follows(transactional_db, demo_page):
    tesla = service_create(slug="tesla", name="Tesla")
    source = services.source_set(service=tesla, kind="statuspage", url=demo_page)
    assert services.poll(source_id=source.pk)
    assert services.poll(source_id=source.pk)  # the second answer is a 304: nothing stored twice
    source.refresh_from_db()
    assert source.status == "operational" and all(v.get("etag") for v in source.validators.values())
    (official,) = OfficialIncident.objects.all()
    onset = scenarios.demo_truth(now=tesla.created_at)["onset"].to_pydatetime()
    assert official.acknowledged_at == (onset + timedelta(minutes=45)).replace(microsecond=0)
    detected = onset + timedelta(minutes=4)
    Incident.objects.create(
        service=tesla, status="resolved", level=Level.PROBLEMS, started_at=onset, detected_at=detected,
        peak_at=onset + timedelta(minutes=30), ended_at=onset + timedelta(hours=12), peak_reports_per_minute=40,
        baseline_at_peak=2, excess_reports=900,
    )  # fmt: skip
    stats = selectors.service_lead_stats(tesla.id)
    assert stats.incidents == 1 and 40 <= stats.median_lead_minutes <= 41


def test_the_demo_page_is_off_unless_asked(client, tesla, settings):
    settings.TREMOR_DEMO_STATUS_PAGE = False
    assert client.get("/demo/status-page/api/v2/summary.json").status_code == 404
