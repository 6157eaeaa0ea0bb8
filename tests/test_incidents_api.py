from datetime import UTC, datetime, timedelta

import pytest

from analytics.models import Incident, ServiceStatus
from reports.services import service_create

T0 = datetime(2023, 2, 14, 9, 1, tzinfo=UTC)


def incident(service, *, start=T0, status="resolved", regions=("EU",), **extra):
    return Incident.objects.create(
        service=service, status=status, level=0 if status == "resolved" else 2, started_at=start,
        detected_at=start + timedelta(minutes=3), peak_at=start + timedelta(minutes=50),
        ended_at=None if status == "ongoing" else start + timedelta(hours=9),
        peak_reports_per_minute=47, baseline_at_peak=1.2, excess_reports=6900.5,
        scope={"regions": list(regions), "countries": ["DE"], "codes": ["503"], "features": ["climate"]},
        scope_shares={"regions": {r: 100.0 / len(regions) for r in regions}}, is_regional=len(regions) == 1,
        phases=[{"started_at": start.isoformat(), "ended_at": None}], tracking={"secret": "not for the API"},
        **extra,
    )  # fmt: skip


def test_an_incident_has_the_documented_representation(api, tesla):
    pk = incident(tesla).pk
    data = api.get(f"/api/v1/incidents/{pk}/").json()
    assert set(data) == {
        "id", "service", "status", "level", "started_at", "detected_at", "peak_at", "ended_at",
        "peak_reports_per_minute", "baseline_at_peak", "excess_reports", "scope", "scope_shares",
        "is_regional", "phases", "official",
    }  # fmt: skip
    assert data["official"] is None  # no official source (tests/test_official_api.py)
    assert data["service"] == "tesla" and data["level"] == "normal" and data["scope"]["codes"] == ["503"]
    assert "tracking" not in data


def test_the_list_filters_by_service_status_time_and_region(api, tesla):
    other = service_create(slug="netflix", name="Netflix")
    incident(tesla, start=T0)
    incident(tesla, start=T0 + timedelta(days=2), status="ongoing", regions=("NA", "EU"))
    incident(other, start=T0 + timedelta(days=1), regions=("APAC",))

    def ids(**params):
        return [i["started_at"][:10] for i in api.get("/api/v1/incidents/", params).json()["results"]]

    assert ids() == ["2023-02-16", "2023-02-15", "2023-02-14"]  # newest first
    assert ids(service="tesla") == ["2023-02-16", "2023-02-14"]
    assert ids(status="ongoing") == ["2023-02-16"]
    assert ids(region="APAC") == ["2023-02-15"]
    assert ids(region="EU") == ["2023-02-16", "2023-02-14"]
    # Overlap: the 15 Feb incident lasted until 18:01.
    assert ids(start="2023-02-15T12:00:00Z") == ["2023-02-16", "2023-02-15"]
    assert ids(start="2023-02-15T19:00:00Z") == ["2023-02-16"]
    assert ids(end="2023-02-15T00:00:00Z") == ["2023-02-14"]
    assert "status" in api.get("/api/v1/incidents/", {"status": "sleeping"}).json()


def test_the_list_is_cheap_to_poll(api, tesla, django_assert_max_num_queries):
    for day in range(20):
        incident(tesla, start=T0 + timedelta(days=day))
    with django_assert_max_num_queries(4):
        first = api.get("/api/v1/incidents/")
    again = api.get("/api/v1/incidents/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_the_service_endpoint_shows_the_level_and_the_ongoing_incident(api, tesla):
    ongoing = incident(tesla, status="ongoing")
    ServiceStatus.objects.create(service=tesla, level=2, evaluated_at=T0, incident=ongoing)
    data = api.get("/api/v1/services/tesla/").json()
    assert data["level"] == "problems"
    assert data["ongoing_incident"]["id"] == ongoing.pk


def test_an_unknown_incident_is_a_404(api, db):
    assert api.get("/api/v1/incidents/999/").status_code == 404


def test_two_ongoing_incidents_for_one_service_are_impossible(tesla):
    from django.db import IntegrityError

    incident(tesla, status="ongoing")
    with pytest.raises(IntegrityError):
        incident(tesla, status="ongoing", start=T0 + timedelta(hours=1))
