"""The official status in a real browser, in the three languages: the service page and the incident page.

The status page is a real local one (tests/support/status_server.py), polled by the real poller.
"""

import os
from datetime import UTC, timedelta

import pytest
from playwright.sync_api import expect

from official import services
from tests.support.status_server import StatusServer, statuspage_incident, statuspage_summary
from tests.test_browser import browser, outage, page, shot  # noqa: F401 (fixtures)

_BOTH = "sqlite" in os.environ.get("TREMOR_TEST_DBS", "sqlite postgresql")
pytestmark = pytest.mark.skipif(
    os.environ.get("TREMOR_TEST_DB") == "postgresql" and _BOTH, reason="runs in the SQLite pass"
)


def _iso(at) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def status_page():
    server = StatusServer().start()
    yield server
    server.stop()


def polled(outage, status_page, *, acknowledged_after=None):  # noqa: F811
    """The outage's service gets the local status page as its source; one real poll."""
    if acknowledged_after is not None:
        at = outage.detected_at + acknowledged_after
        incident = statuspage_incident("tsla1", created_at=_iso(at))
        status_page.summary = statuspage_summary("major", updated_at=_iso(at), incidents=[incident])
        status_page.incidents = {"incidents": [incident]}
    source = services.source_set(service=outage.service, kind="statuspage", url=status_page.base)
    assert services.poll(source_id=source.pk)
    return source


LANGUAGES = [
    ("English", "en", "Official: operational",
     "Tremor detected this 23 minutes before the official status page changed."),
    ("Français", "fr", "Officiel : opérationnel",
     "Tremor a détecté ceci 23 minutes avant que la page de statut officielle ne change."),
    ("Deutsch", "de", "Offiziell: in Betrieb",
     "Tremor hat dies 23 Minuten vor der Änderung der offiziellen Statusseite erkannt."),
]  # fmt: skip


def test_the_service_page_shows_official_operational_beside_tremors_problems(page, live_server, outage, status_page):  # noqa: F811
    polled(outage, status_page)
    page.goto(f"{live_server.url}/status/tesla/")
    for button, lang, official, _lead in LANGUAGES:
        page.get_by_role("button", name=button).click()
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator("#official-status")).to_contain_text(official)
        expect(page.locator("#status-box")).to_have_class("status status-problems")
        shot(page, f"official-service-{lang}")


def test_the_incident_page_shows_the_official_incident_and_the_lead(page, live_server, outage, status_page):  # noqa: F811
    polled(outage, status_page, acknowledged_after=timedelta(minutes=23, seconds=20))
    page.goto(f"{live_server.url}/incidents/{outage.pk}/")
    for button, lang, _official, lead in LANGUAGES:
        page.get_by_role("button", name=button).click()
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator("#official-lead")).to_have_text(lead)
        expect(page.locator("#official-incident")).to_contain_text("Elevated errors (tsla1)")
        shot(page, f"official-incident-{lang}")
