"""Status badge (SVG) and status JSON from ServiceStatus, cache-friendly."""

import xml.etree.ElementTree as ET

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.models import Level, ServiceStatus
from tests.test_webhooks import make_incident


def test_the_badge_shows_the_level_and_is_cacheable(client, tesla):
    unknown = client.get("/status/tesla/badge.svg")
    assert unknown.status_code == 200 and unknown["Content-Type"].startswith("image/svg+xml")
    assert "unknown" in unknown.content.decode()
    ServiceStatus.objects.create(service=tesla, level=Level.PROBLEMS, evaluated_at=timezone.now())
    response = client.get("/status/tesla/badge.svg")
    svg = ET.fromstring(response.content)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert "Tesla: problems" in response.content.decode()
    assert "max-age=60" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert response["ETag"] != unknown["ETag"]
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/status/tesla/badge.svg", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert len(queries) == 2  # service, status
    assert client.get("/status/nope/badge.svg").status_code == 404


def test_the_status_json_gives_level_incident_and_last_update(api, tesla):
    assert api.get("/api/v1/services/tesla/status/").json()["level"] == "unknown"
    incident = make_incident(tesla)
    at = timezone.now().replace(microsecond=0)
    ServiceStatus.objects.create(service=tesla, level=Level.POSSIBLE, evaluated_at=at, incident=incident)
    response = api.get("/api/v1/services/tesla/status/")
    data = response.json()
    assert data == {
        "service": "tesla", "level": "possible", "incident": incident.pk,
        "evaluated_at": at.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip
    assert "max-age=60" in response["Cache-Control"]
    assert api.get("/api/v1/services/tesla/status/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    since = api.get("/api/v1/services/tesla/status/", HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
    assert since.status_code == 304
