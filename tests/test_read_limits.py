"""Anonymous reads have a bounded cost: ranges are capped, filters run in the database, the home page
costs the same few queries for one service or fifty, and reads are throttled per network."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.services import service_create
from tests.test_incidents_api import T0, incident

SERIES = "/api/v1/services/tesla/timeseries/"
BREAKDOWN = "/api/v1/services/tesla/breakdown/"


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (SERIES, {"interval": "1h"}),
        (SERIES, {"interval": "15m"}),
        (BREAKDOWN, {"dimension": "country"}),
        (BREAKDOWN, {"dimension": "code"}),
    ],
)
def test_a_range_longer_than_31_days_is_a_400_naming_start(api, tesla, path, params):
    end = timezone.now()
    too_long = api.get(path, {**params, "start": _iso(end - timedelta(days=833)), "end": _iso(end)})
    assert too_long.status_code == 400 and "start" in too_long.json()
    only_start = api.get(path, {**params, "start": "2001-01-01T00:00:00Z"})  # end defaults to now
    assert only_start.status_code == 400 and "start" in only_start.json()
    month = api.get(path, {**params, "start": _iso(end - timedelta(days=31)), "end": _iso(end)})
    assert month.status_code == 200


def test_the_incident_region_filter_runs_in_the_database(api, tesla):
    for i in range(30):
        incident(tesla, start=T0 + timedelta(days=i), regions=("EU",) if i % 3 else ("NA", "EU"))
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v1/incidents/", {"region": "NA", "page_size": 5})
    assert response.status_code == 200
    assert [r["scope"]["regions"] for r in response.json()["results"]] == [["NA", "EU"]] * 5
    reads = [q["sql"] for q in queries if "analytics_incident" in q["sql"] and q["sql"].lstrip().startswith("SELECT")]
    # Every read of the incident table is bounded (LIMIT) or an aggregate: none fetches all scopes.
    assert reads and all("LIMIT" in sql or "MAX(" in sql.upper() for sql in reads), reads
    assert api.get("/api/v1/incidents/", {"region": "LATAM"}).json()["results"] == []


def _home_queries(client) -> int:
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


def test_the_home_page_costs_the_same_queries_for_one_service_or_fifty(client, tesla):
    one = _home_queries(client)
    for i in range(49):
        service_create(slug=f"service-{i}", name=f"Service {i}")
    assert _home_queries(client) == one


def test_the_home_page_is_computed_once_a_minute(client, tesla):
    assert client.get("/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert len(queries) <= 1  # the session or nothing: the rows come from the cache
    assert client.get("/", {"q": "tes"}).status_code == 200  # a search is computed, not cached


def test_anonymous_reads_are_throttled_per_network(api, tesla, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "read_anon": "3/min"},
    }
    codes = [api.get(SERIES, REMOTE_ADDR=f"2001:db8:9:9::{i}").status_code for i in range(1, 5)]
    assert codes == [200, 200, 200, 429]
