from datetime import timedelta

from django.utils import timezone

from analytics.bucketing import bucket_new_reports
from tests.support.reports import add_reports


def add(service, *, at, country="FR", region="EU", code="503", feature="climate", n=1):
    add_reports(service, at=at, n=n, country=country, region=region, code=code, feature=feature)


def minute_ago(n):
    return timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=n)


def get(api, **params):
    return api.get("/api/v1/services/tesla/timeseries/", params)


def test_it_is_zero_filled(api, tesla):
    end = minute_ago(0)
    add(tesla, at=end - timedelta(minutes=5), n=2)
    response = get(api, interval="1m", start=(end - timedelta(minutes=10)).isoformat(), end=end.isoformat())
    assert response.status_code == 200
    data = response.json()
    assert data["service"] == "tesla" and data["interval"] == "1m"
    assert [b["count"] for b in data["buckets"]] == [0, 0, 0, 0, 0, 2, 0, 0, 0, 0]
    assert data["buckets"][0]["t"] == (end - timedelta(minutes=10)).isoformat().replace("+00:00", "Z")


def test_coarser_intervals_roll_up_minutes(api, tesla):
    end = minute_ago(0).replace(minute=0)
    for m in range(60):
        add(tesla, at=end - timedelta(minutes=60 - m))
    bucket_new_reports()
    response = get(api, interval="15m", start=(end - timedelta(hours=1)).isoformat(), end=end.isoformat())
    assert [b["count"] for b in response.json()["buckets"]] == [15, 15, 15, 15]
    response = get(api, interval="1h", start=(end - timedelta(hours=2)).isoformat(), end=end.isoformat())
    assert [b["count"] for b in response.json()["buckets"]] == [0, 60]


def test_newest_reports_count_before_they_are_bucketed(api, tesla):
    add(tesla, at=minute_ago(30), n=2)
    bucket_new_reports()
    add(tesla, at=timezone.now() - timedelta(seconds=1), n=3)  # not bucketed yet
    response = get(api, interval="1h", start=(timezone.now() - timedelta(hours=1)).isoformat())
    assert sum(b["count"] for b in response.json()["buckets"]) == 5


def test_it_filters_by_slice(api, tesla):
    at = minute_ago(10)
    add(tesla, at=at, n=2)
    add(tesla, at=at, country="US", region="NA", code="500", feature="location", n=3)
    bucket_new_reports()
    start = (at - timedelta(minutes=1)).isoformat()

    def total(**filters):
        return sum(b["count"] for b in get(api, interval="5m", start=start, **filters).json()["buckets"])

    assert total() == 5
    assert total(region="NA") == 3
    assert total(country="FR") == 2
    assert total(code="500") == 3
    assert total(feature="climate") == 2
    assert total(region="EU", code="500") == 0


def test_bad_parameters_get_a_400_naming_them(api, tesla):
    assert "interval" in get(api, interval="2m").json()
    assert "start" in get(api, start="yesterday").json()
    assert "region" in get(api, region="MARS").json()
    now = timezone.now()
    assert "start" in get(api, start=now.isoformat(), end=(now - timedelta(hours=1)).isoformat()).json()
    assert "interval" in get(api, interval="1m", start=(now - timedelta(days=30)).isoformat()).json()


def test_an_unknown_service_is_a_404(api, tesla):
    assert api.get("/api/v1/services/nope/timeseries/").status_code == 404


def test_breakdown_gives_counts_and_shares(api, tesla):
    at = minute_ago(10)
    add(tesla, at=at, n=3)
    add(tesla, at=at, country="US", region="NA", n=1)
    bucket_new_reports()
    data = api.get("/api/v1/services/tesla/breakdown/", {"dimension": "region"}).json()
    assert data["total"] == 4
    assert data["values"] == [{"value": "EU", "count": 3, "share": 75.0}, {"value": "NA", "count": 1, "share": 25.0}]
    assert "dimension" in api.get("/api/v1/services/tesla/breakdown/", {"dimension": "planet"}).json()


def test_service_endpoints_give_recent_counts(api, tesla):
    add(tesla, at=timezone.now() - timedelta(minutes=5), n=2)
    add(tesla, at=timezone.now() - timedelta(hours=3), n=1)
    detail = api.get("/api/v1/services/tesla/").json()
    assert (detail["reports_last_hour"], detail["reports_last_24h"]) == (2, 3)
    assert "other" in {f["slug"] for f in detail["features"]}
    listing = api.get("/api/v1/services/").json()
    assert listing["results"][0]["slug"] == "tesla"  # paginated: {"count", "next", "previous", "results"}
