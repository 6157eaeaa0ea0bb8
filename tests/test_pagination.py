"""Lists are paginated, filterable and ordered; ETag / Last-Modified give polling clients 304s."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.models import Report

URL = "/api/v1/reports/"


def add_reports(service, n: int, *, start=None, country="FR", region="EU") -> None:
    start = start or timezone.now() - timedelta(hours=1)
    feature = service.features.get(slug="climate")
    Report.objects.bulk_create(
        [
            Report(service=service, feature=feature, code="503", country=country, region=region, source="api",
                   observed_at=start + timedelta(seconds=i), received_at=start + timedelta(seconds=i),
                   fingerprint="secret-fingerprint", comment="my phone number is ...")
            for i in range(n)
        ]
    )  # fmt: skip


def test_reports_are_cursor_paginated_newest_first_without_fingerprints(api, tesla):
    add_reports(tesla, 25)
    seen, url, pages = [], URL, 0
    while url:
        page = api.get(url, {"page_size": 10} if url == URL else None).json()
        seen += page["results"]
        url, pages = page["next"], pages + 1
    assert pages == 3 and len(seen) == 25 and len({r["id"] for r in seen}) == 25
    observed = [r["observed_at"] for r in seen]
    assert observed == sorted(observed, reverse=True)
    assert "fingerprint" not in seen[0] and "comment" not in seen[0]
    assert set(seen[0]) >= {"id", "service", "feature", "code", "country", "region", "observed_at", "received_at"}


def test_reports_filter_by_service_range_and_region(api, tesla):
    from reports.services import service_create

    bank = service_create(slug="bank", name="Bank", homepage_url="", features=["climate"])
    now = timezone.now()
    add_reports(tesla, 5, start=now - timedelta(hours=2))
    add_reports(tesla, 3, start=now - timedelta(minutes=30), country="US", region="NA")
    add_reports(bank, 4, start=now - timedelta(minutes=30))

    def ids(**q):
        return len(api.get(URL, q).json()["results"])

    assert ids() == 12
    assert ids(service="tesla") == 8
    assert ids(service="tesla", region="NA") == 3
    assert ids(service="tesla", start=(now - timedelta(hours=1)).isoformat()) == 3
    assert ids(end=(now - timedelta(hours=1)).isoformat()) == 5
    assert api.get(URL, {"region": "MARS"}).status_code == 400


def test_listing_reports_costs_a_fixed_number_of_queries(api, tesla):
    add_reports(tesla, 200)
    with CaptureQueriesContext(connection) as queries:
        assert api.get(URL, {"page_size": 100}).status_code == 200
    assert len(queries) == 2  # last-modified, the page with service and feature joined


def test_an_unchanged_list_answers_304_to_etag_and_last_modified(api, tesla):
    add_reports(tesla, 3)
    first = api.get(URL)
    assert first.status_code == 200 and first["ETag"] and first["Last-Modified"]
    assert "no-cache" in first["Cache-Control"]
    again = api.get(URL, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    since = api.get(URL, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304
    add_reports(tesla, 1, start=timezone.now() + timedelta(seconds=2))
    assert api.get(URL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
    assert api.get(URL, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 200


def test_services_are_paginated_ordered_and_conditional(api, tesla):
    from reports.services import service_create

    for slug in ("alpha", "beta", "gamma"):
        service_create(slug=slug, name=slug.title(), homepage_url="", features=["login"])
    add_reports(tesla, 2, start=timezone.now() - timedelta(minutes=5))
    page = api.get("/api/v1/services/", {"limit": 2}).json()
    assert page["count"] == 4 and [s["slug"] for s in page["results"]] == ["tesla", "alpha"]
    rest = api.get(page["next"]).json()
    assert [s["slug"] for s in rest["results"]] == ["beta", "gamma"]
    by_name = api.get("/api/v1/services/", {"ordering": "name"}).json()
    assert [s["slug"] for s in by_name["results"]] == ["alpha", "beta", "gamma", "tesla"]
    assert api.get("/api/v1/services/", {"ordering": "slug; drop"}).status_code == 400
    first = api.get("/api/v1/services/")
    assert api.get("/api/v1/services/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    with CaptureQueriesContext(connection) as before:
        api.get("/api/v1/services/")
    for slug in ("delta", "epsilon", "zeta"):
        service_create(slug=slug, name=slug.title(), homepage_url="", features=["login"])
    with CaptureQueriesContext(connection) as after:
        api.get("/api/v1/services/")
    assert len(after) == len(before) <= 7  # services, then a few per count window; never one per service


def test_posting_a_report_still_works_beside_the_list(api, tesla):
    response = api.post(URL, {"service": "tesla", "feature": "climate", "code": "503", "country": "FR"}, format="json")
    assert response.status_code == 201
    assert api.get(URL).json()["results"][0]["id"] == response.json()["id"]
