import math
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.models import Report

URL = "/api/v1/reports/bulk/"


def item(**overrides):
    return {"service": "tesla", "feature": "remote-unlock", "code": "500", "country": "US", **overrides}


def test_bulk_intake_requires_a_token(api, tesla):
    response = api.post(URL, {"reports": [item()]}, format="json")
    assert response.status_code == 401
    assert not Report.objects.exists()


# Columns of one INSERTed report (all but the id): how many rows fit SQLite's 999 parameters.
_COLUMNS = len([f for f in Report._meta.concrete_fields if not f.primary_key])


def test_it_stores_a_thousand_reports_in_one_insert(partner, tesla):
    reports = [item(country=("US", "FR", "KR")[i % 3]) for i in range(1000)]
    with CaptureQueriesContext(connection) as queries:
        response = partner.post(URL, {"reports": reports}, format="json")
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    # PostgreSQL takes the batch in one statement; SQLite caps a statement at
    # 999 parameters, so Django splits it (in-process, no round trips there).
    assert len(inserts) == (1 if connection.vendor == "postgresql" else math.ceil(1000 / (999 // _COLUMNS)))
    # token with its user, the token's last-used stamp (at most once a minute), savepoints; never one per report
    assert len(queries) - len(inserts) <= 4
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 1000
    assert Report.objects.filter(source="api").count() == 1000
    assert set(Report.objects.values_list("region", flat=True)) == {"NA", "EU", "APAC"}


def test_more_than_a_thousand_is_refused(partner, tesla):
    response = partner.post(URL, {"reports": [item()] * 1001}, format="json")
    assert response.status_code == 400
    assert "reports" in response.json()
    assert not Report.objects.exists()


def test_one_bad_item_rejects_the_batch_and_names_each_bad_item(partner, tesla):
    reports = [item(), item(country="ZZ"), item(), item(code="", feature="nope")]
    response = partner.post(URL, {"reports": reports}, format="json")
    assert response.status_code == 400
    bad = response.json()["items"]
    assert [entry["index"] for entry in bad] == [1, 3]
    assert set(bad[0]["errors"]) == {"country"}
    assert set(bad[1]["errors"]) == {"code", "feature"}
    assert not Report.objects.exists()


def test_observed_at_is_kept_within_its_limits(partner, tesla):
    now = timezone.now()
    ok_old = (now - timedelta(days=6, hours=23)).isoformat()
    ok_future = (now + timedelta(seconds=30)).isoformat()
    response = partner.post(URL, {"reports": [item(observed_at=ok_old), item(observed_at=ok_future)]}, format="json")
    assert response.status_code == 201
    stored = sorted(Report.objects.values_list("observed_at", flat=True))
    assert stored[0] < now - timedelta(days=6)


def test_observed_at_out_of_limits_is_refused(partner, tesla):
    now = timezone.now()
    for bad in [
        (now - timedelta(days=7, minutes=1)).isoformat(),
        (now + timedelta(minutes=2)).isoformat(),
        "yesterday",
        "2023-02-14T09:00:00",
    ]:
        response = partner.post(URL, {"reports": [item(observed_at=bad)]}, format="json")
        assert response.status_code == 400, bad
        assert "observed_at" in response.json()["items"][0]["errors"]
    assert not Report.objects.exists()


def test_bulk_reports_are_not_deduplicated(partner, tesla):
    response = partner.post(URL, {"reports": [item()] * 3}, format="json")
    assert response.json()["created"] == 3


def test_a_body_that_is_not_a_batch_gets_a_400(partner, tesla):
    for bad in [[item()], {"reports": "x"}, {"reports": []}, {"reports": [1, "a"]}]:
        response = partner.post(URL, bad, format="json")
        assert response.status_code == 400, bad
