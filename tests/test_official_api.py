"""The official status in the read API, as a webhook event and as a feed entry."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from official import services
from official.events import EVENT_TYPE
from official.parsing import Published, Snapshot
from tests.support.receiver import Receiver
from tests.support.webhooks import drain, subscribe
from tests.test_journalist_pages import open_incident
from webhooks import services as webhook_services
from webhooks.models import Event


@pytest.fixture
def source(tesla):
    src = services.source_set(service=tesla, kind="statuspage", url="https://status.tesla.example")
    services.record(source=src, snapshots=[Snapshot(status="operational")], now=timezone.now() - timedelta(days=1))
    return src


def acknowledge(source, *, at):
    published = Published(external_id="inc1", title="Owners locked out", acknowledged_at=at, state="investigating")
    return services.record(
        source=source, snapshots=[Snapshot(status="major_outage", changed_at=at, incidents=[published])],
        now=timezone.now(),
    )  # fmt: skip


def test_the_service_endpoint_has_the_official_status_and_the_lead_statistics(api, tesla, source):
    resolved = open_incident(tesla, started_ago=timedelta(hours=5), status="resolved")
    acknowledge(source, at=resolved.detected_at + timedelta(minutes=12))
    body = api.get("/api/v1/services/tesla/").json()["official"]
    assert body["kind"] == "statuspage" and body["status"] == "major_outage"
    assert body["stats"] == {"incidents": 1, "acknowledged": 1, "median_lead_minutes": 12.0,
                             "never_acknowledged_share": 0.0}  # fmt: skip


def test_a_service_without_source_says_null(api, tesla):
    assert api.get("/api/v1/services/tesla/").json()["official"] is None
    assert api.get("/api/v1/services/tesla/official/").json()["official"] is None


def test_the_incident_endpoint_has_the_acknowledgement_and_lead(api, tesla, source):
    incident = open_incident(tesla, started_ago=timedelta(minutes=90))
    assert api.get(f"/api/v1/incidents/{incident.pk}/").json()["official"]["acknowledged_at"] is None
    acknowledge(source, at=incident.detected_at + timedelta(minutes=23))
    official = api.get(f"/api/v1/incidents/{incident.pk}/").json()["official"]
    assert official["lead_minutes"] == 23 and official["incident"]["title"] == "Owners locked out"


def test_the_history_endpoint_lists_changes_and_incidents_newest_first(api, tesla, source):
    incident = open_incident(tesla, started_ago=timedelta(minutes=90))
    acknowledge(source, at=incident.detected_at + timedelta(minutes=5))
    body = api.get("/api/v1/services/tesla/official/").json()
    assert [c["status"] for c in body["changes"]] == ["major_outage", "operational"]
    assert [i["title"] for i in body["incidents"]] == ["Owners locked out"]
    assert len(api.get("/api/v1/services/tesla/official/?limit=1").json()["changes"]) == 1
    bad = api.get("/api/v1/services/tesla/official/?limit=0")
    assert bad.status_code == 400 and "limit" in bad.json()


def test_a_change_during_an_incident_is_a_webhook_event_with_the_lead(tesla, source, owner):  # noqa: F811
    receiver = Receiver().start()
    try:
        sub = subscribe(owner, receiver.url())
        incident = open_incident(tesla, started_ago=timedelta(minutes=60))
        acknowledge(source, at=incident.detected_at + timedelta(minutes=17))
        event = Event.objects.get(incident=incident, type=EVENT_TYPE)
        webhook_services.fan_out_event(event_id=event.pk)
        drain(sub, incident)
        (request,) = receiver.at("/hook")
    finally:
        receiver.stop()
    body = json.loads(request.body)
    assert body["type"] == "incident.official_status_changed" and body["incident"]["id"] == incident.pk
    assert body["official"]["status"] == "major_outage" and body["official"]["lead_minutes"] == 17


def test_a_change_outside_any_incident_is_no_event(tesla, source, owner):  # noqa: F811
    subscribe(owner, "http://127.0.0.1:9/hook")
    acknowledge(source, at=timezone.now() - timedelta(minutes=3))
    assert not Event.objects.filter(type=EVENT_TYPE).exists()


def test_a_change_during_an_incident_is_a_feed_entry(client, tesla, source):
    incident = open_incident(tesla, started_ago=timedelta(minutes=60))
    acknowledge(source, at=incident.detected_at + timedelta(minutes=17))
    for url in ("/incidents/feed/", "/status/tesla/feed/"):
        feed = client.get(url).content.decode()
        assert "Tesla: official status now major outage" in feed
        assert f"/incidents/{incident.pk}/" in feed and "tag:tremor,2026:official:" in feed


def test_the_openapi_schema_describes_the_official_status(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/services/{slug}/official/" in schema["paths"]
    components = schema["components"]["schemas"]
    assert "official" in components["ServiceDetailOut"]["properties"]
    assert "official" in components["IncidentDetailOut"]["properties"]
    assert {"changes", "incidents", "official"} <= set(components["OfficialHistoryOut"]["properties"])
