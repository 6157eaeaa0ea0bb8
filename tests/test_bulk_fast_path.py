"""Bulk intake's fast path (one unnest INSERT on PostgreSQL): what it stores is what was sent."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.models import Feature, Report
from reports.services import _array_literal, reports_bulk_insert
from reports.validation import validate_report

URL = "/api/v1/reports/bulk/"
TRICKY = ['say "hi"', "back\\slash", "it's", "NULL", "a,b}{c", "é 🎉 ünïcode", "  padded", "tab\there"]


def test_comments_are_stored_verbatim_whatever_they_contain(partner, tesla):
    reports = [{"service": "tesla", "feature": "climate", "code": "503", "country": "FR", "comment": c} for c in TRICKY]
    response = partner.post(URL, {"reports": reports}, format="json")
    assert response.status_code == 201, response.json()
    stored = list(Report.objects.order_by("id").values_list("comment", flat=True))
    # validation strips surrounding whitespace; everything else arrives as sent
    assert stored == [c.strip() for c in TRICKY]


def test_it_returns_the_new_ids_in_order_and_the_first_one(partner, tesla):
    reports = [{"service": "tesla", "feature": "climate", "code": str(500 + i % 4), "country": "DE"} for i in range(50)]
    response = partner.post(URL, {"reports": reports}, format="json")
    ids = list(Report.objects.order_by("id").values_list("id", flat=True))
    assert response.json() == {"created": 50, "first_id": ids[0]}
    assert list(Report.objects.order_by("id").values_list("code", flat=True)) == [r["code"] for r in reports]


def test_feature_other_is_created_once_for_a_whole_batch(tesla):
    Feature.objects.filter(service=tesla, slug="other").delete()
    now = timezone.now()
    items = [
        validate_report({"service": "tesla", "feature": "other", "code": "none", "country": "US"}, now=now)[0]
        for _ in range(20)
    ]
    with CaptureQueriesContext(connection) as queries:
        ids = reports_bulk_insert(items=items, source=Report.Source.API, now=now)
    if connection.vendor == "postgresql":  # the fast path; SQLite keeps the ORM's per-item path
        assert len(queries) <= 6  # get_or_create of `other` once, then the insert; never one per report
    assert len(ids) == 20 and ids == sorted(ids)
    other = Feature.objects.get(service=tesla, slug="other")
    assert set(Report.objects.values_list("feature_id", flat=True)) == {other.id}


def test_array_literals_quote_every_string():
    assert _array_literal([1, 22]) == "{1,22}"
    assert _array_literal(['a"b', "c\\d", "NULL"]) == '{"a\\"b","c\\\\d","NULL"}'
