"""Atom feeds of incidents, all services and per service, checked against RFC 4287's required elements."""

import xml.etree.ElementTree as ET
from datetime import timedelta

from django.utils import timezone

from analytics.models import Incident
from tests.test_webhooks import make_incident

ATOM = "{http://www.w3.org/2005/Atom}"


def parse_atom(response) -> ET.Element:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    # RFC 4287 4.1.1: a feed has exactly one id, title and updated, and an author (or every entry has one).
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{ATOM}{name}")) == 1, name
    assert feed.find(f"{ATOM}author/{ATOM}name").text
    ids = []
    for entry in feed.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
        assert entry.find(f"{ATOM}summary") is not None
        ids.append(entry.find(f"{ATOM}id").text)
    assert len(ids) == len(set(ids))
    return feed


def test_the_feed_lists_incidents_of_all_services_most_recently_changed_first(client, tesla):
    from reports.services import service_create

    bank = service_create(slug="bank", name="Bank", homepage_url="", features=["login"])
    old = make_incident(tesla)
    Incident.objects.filter(pk=old.pk).update(
        status="resolved", ended_at=timezone.now(), updated_at=timezone.now() - timedelta(hours=1)
    )
    make_incident(bank, regions=["NA"])
    feed = parse_atom(client.get("/incidents/feed/"))
    titles = [e.find(f"{ATOM}title").text for e in feed.findall(f"{ATOM}entry")]
    assert titles == ["Bank: problems (NA)", "Tesla: resolved (EU)"]
    summary = feed.find(f"{ATOM}entry/{ATOM}summary").text
    assert "peak 40 reports/min" in summary and "503" in summary


def test_a_service_feed_has_only_that_service(client, tesla):
    from reports.services import service_create

    bank = service_create(slug="bank", name="Bank", homepage_url="", features=["login"])
    make_incident(bank)
    mine = make_incident(tesla)
    feed = parse_atom(client.get("/status/tesla/feed/"))
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}id").text for e in entries] == [f"tag:tremor,2026:incident:{mine.pk}"]
    assert feed.find(f"{ATOM}title").text == "Tremor: Tesla incidents"
    assert client.get("/status/nope/feed/").status_code == 404


def test_an_empty_feed_is_still_valid(client, tesla):
    parse_atom(client.get("/status/tesla/feed/"))
