"""A widespread event in a real browser: the home banner, the event page's curves and map, offline."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reports.models import Feature
from tests.test_browser import browser, page, shot, wait_drawn  # noqa: F401 (fixtures)
from tests.test_events_api import make_event
from tests.test_journalist_pages import add_reports

_BOTH = "sqlite" in os.environ.get("TREMOR_TEST_DBS", "sqlite postgresql")
pytestmark = pytest.mark.skipif(
    os.environ.get("TREMOR_TEST_DB") == "postgresql" and _BOTH, reason="runs in the SQLite pass"
)


@pytest.fixture
def event(transactional_db):
    event = make_event(start=timezone.now() - timedelta(minutes=50), services=6, status="ongoing")
    for member in event.members.select_related("incident__service"):
        service = member.incident.service
        Feature.objects.create(service=service, slug="sentinel-mode", name="Sentinel mode")
        for hours in range(2, 8):
            add_reports(service, 1, ago=timedelta(hours=hours), country="US")
        for minutes in (45, 35, 25, 15):
            add_reports(service, 12, ago=timedelta(minutes=minutes), country="US")
            add_reports(service, 6, ago=timedelta(minutes=minutes), country="DE")
    return event


def test_the_home_banner_leads_to_the_event_page_with_its_curves_and_map(page, live_server, event):  # noqa: F811
    page.goto(f"{live_server.url}/")
    banner = page.locator(".event-banner")
    expect(banner).to_contain_text("6 services have problems at once")
    expect(banner).to_contain_text("AWS us-east-1")
    banner.get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/events/{event.pk}/")
    wait_drawn(page, "chart-event")
    wait_drawn(page, "chart-event-map")
    assert page.locator("#chart-event .scatterlayer .trace").count() == 6  # one curve per service
    expect(page.locator("#chart-event .ytitle")).to_have_text("Reports, times their usual level")
    assert page.locator("#chart-event-map .choroplethlocation").count() == 2  # US, DE
    expect(page.locator(".event-chance")).to_contain_text("6 services within")
    expect(page.locator("#event-services li").first).to_contain_text("S0")
    shot(page, "event")
    page.locator("#event-services li a").first.click()
    expect(page.locator(".event-link")).to_contain_text("Part of a widespread outage")
