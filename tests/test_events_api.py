"""`/api/v1/events/`: widespread events with their services in join order, filters, paging, ETags."""

from datetime import UTC, datetime, timedelta

import pytest

from analytics.models import EventMember, Incident, WidespreadEvent
from reports.models import Service

T0 = datetime(2021, 12, 7, 15, 32, tzinfo=UTC)


def make_event(*, services=4, start=T0, status="resolved", regions=(), provider="aws:us-east-1", prefix="s"):
    event = WidespreadEvent.objects.create(
        status=status, started_at=start, detected_at=start + timedelta(minutes=6),
        ended_at=None if status == "ongoing" else start + timedelta(hours=3), scope={"regions": list(regions),
        "codes": ["503"]}, rate_per_minute=0.01, chance=1e-12, provider=provider,
        provider_members=services - 1 if provider else 0, provider_share=0.25 if provider else None,
    )  # fmt: skip
    for n in range(services):
        service = Service.objects.create(slug=f"{prefix}{n}", name=f"S{n}", providers=[provider] if provider else [])
        began = start + timedelta(minutes=n)
        incident = Incident.objects.create(
            service=service, status=status, level=2, started_at=began, detected_at=began + timedelta(minutes=4),
            peak_at=began, ended_at=None if status == "ongoing" else began + timedelta(hours=2),
            peak_reports_per_minute=5, baseline_at_peak=1, excess_reports=50, scope={"regions": list(regions)},
            is_regional=bool(regions),
        )  # fmt: skip
        EventMember.objects.create(event=event, incident=incident, joined_at=began + timedelta(minutes=6))
    return event


def test_an_event_lists_its_services_in_join_order_with_provider_and_chance(api, db):
    pk = make_event(services=12).pk
    data = api.get(f"/api/v1/events/{pk}/").json()
    assert set(data) == {
        "id", "status", "started_at", "detected_at", "ended_at", "scope", "services", "span_minutes",
        "expected_by_chance", "chance", "provider",
    }  # fmt: skip
    assert [s["service"] for s in data["services"]] == [f"s{n}" for n in range(12)]
    assert set(data["services"][0]) == {"service", "incident", "joined_at", "started_at", "ended_at"}
    assert data["started_at"] == "2021-12-07T15:32:00Z" and data["span_minutes"] == 11.0
    assert data["expected_by_chance"] == pytest.approx(0.11)  # 0.01 onsets a minute over 11 minutes
    assert data["provider"] == {
        "name": "aws:us-east-1", "label": "AWS us-east-1", "services": 11, "share_of_all_services": 0.25,
    }  # fmt: skip


def test_the_list_filters_by_status_time_service_provider_and_region(api, db):
    make_event(start=T0, prefix="a")
    make_event(start=T0 + timedelta(days=1), status="ongoing", regions=("EU",), provider="", prefix="b")
    make_event(start=T0 + timedelta(days=2), regions=("NA",), provider="cloudflare", prefix="c")

    def days(**params):
        return [e["started_at"][:10] for e in api.get("/api/v1/events/", params).json()["results"]]

    assert days() == ["2021-12-09", "2021-12-08", "2021-12-07"]
    assert days(status="ongoing") == ["2021-12-08"]
    assert days(service="a1") == ["2021-12-07"]
    assert days(provider="cloudflare") == ["2021-12-09"]
    assert days(region="EU") == ["2021-12-08", "2021-12-07"]  # the first one is worldwide
    assert days(start="2021-12-09T00:00:00Z") == ["2021-12-09", "2021-12-08"]
    assert days(end="2021-12-08T00:00:00Z") == ["2021-12-07"]


def test_the_list_is_cheap_to_poll_and_paginated(api, db, django_assert_max_num_queries):
    for day in range(8):
        make_event(start=T0 + timedelta(days=day), services=5, prefix=f"d{day}-")
    with django_assert_max_num_queries(4):
        first = api.get("/api/v1/events/", {"page_size": 3})
    body = first.json()
    assert len(body["results"]) == 3 and body["next"]
    assert api.get(body["next"]).json()["results"][0]["started_at"][:10] == "2021-12-11"
    assert api.get("/api/v1/events/", {"page_size": 3}, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_an_unknown_event_is_a_404(api, db):
    assert api.get("/api/v1/events/999/").status_code == 404
