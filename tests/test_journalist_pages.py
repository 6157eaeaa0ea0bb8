"""Journalists' pages through Django: service status, chart data, CSV, incidents, embeds, home."""

import csv
import io
from datetime import UTC, timedelta

import pytest
from django.conf import settings
from django.utils import timezone, translation

import public.selectors
from analytics import selectors
from analytics.bucketing import bucket_range
from analytics.models import BucketingState, Incident, Level, ServiceStatus
from reports.models import Report
from reports.regions import REGION_BY_COUNTRY
from reports.services import service_create


@pytest.fixture(autouse=True)
def _back_to_english():
    # Requests in other languages leave theirs active in this thread; later tests read English.
    yield
    translation.activate(settings.LANGUAGE_CODE)


def add_reports(service, n, *, ago, country="FR", code="503", feature="sentinel-mode", comment=""):
    """n reports `ago` before now, bucketed the way the minute task leaves them."""
    f = service.features.get(slug=feature)
    at = timezone.now() - ago
    Report.objects.bulk_create([
        Report(service=service, feature=f, code=code, country=country, region=REGION_BY_COUNTRY[country],
               observed_at=at, received_at=at, source="import", comment=comment)
        for _ in range(n)
    ])  # fmt: skip


def settle(service, *, days=31):
    """Bucket everything older than two minutes and record that, as beat would."""
    now = timezone.now()
    bucket_range(start=now - timedelta(days=days), end=now, services=[service.slug])
    closed = now.replace(second=0, microsecond=0) - timedelta(minutes=2)
    BucketingState.objects.update_or_create(id=1, defaults={"bucketed_until": closed, "scanned_until": closed})


def open_incident(service, *, started_ago=timedelta(hours=2), status="ongoing", level=Level.PROBLEMS):
    now = timezone.now()
    started = now - started_ago
    ended = None if status == "ongoing" else started + timedelta(minutes=50)
    incident = Incident.objects.create(
        service=service, status=status, level=level, started_at=started, detected_at=started + timedelta(minutes=6),
        peak_at=started + timedelta(minutes=30), ended_at=ended, peak_reports_per_minute=42.0, baseline_at_peak=2.5,
        excess_reports=1234.0, is_regional=True,
        scope={"regions": ["EU"], "countries": ["FR", "DE"], "codes": ["503"],
               "features": ["sentinel-mode", "remote-unlock"]},
        scope_shares={"regions": {"EU": 96.5}, "countries": {"FR": 60.0, "DE": 30.0}, "codes": {"503": 88.0},
                      "features": {"sentinel-mode": 55.0, "remote-unlock": 30.0}},
        phases=[{"started_at": started.isoformat(), "ended_at": ended.isoformat() if ended else None}],
    )  # fmt: skip
    if status == "ongoing":
        ServiceStatus.objects.update_or_create(
            service=service, defaults={"level": level, "evaluated_at": now, "incident": incident}
        )
    return incident


@pytest.fixture
def outage(tesla):
    add_reports(tesla, 30, ago=timedelta(minutes=90), comment="<script>alert('x')</script> app says 503")
    add_reports(tesla, 12, ago=timedelta(minutes=100), country="DE", feature="remote-unlock")
    add_reports(tesla, 5, ago=timedelta(hours=5), country="US", code="none", feature="app-login")
    add_reports(tesla, 7, ago=timedelta(days=3), country="US", code="500", feature="climate")
    add_reports(tesla, 9, ago=timedelta(days=20), country="JP", code="502", feature="climate")
    add_reports(tesla, 2, ago=timedelta(seconds=20))  # not bucketed yet: counted from the raw table
    settle(tesla)
    return open_incident(tesla)


def test_the_service_page_says_in_plain_words_what_is_down(client, outage):
    html = client.get("/status/tesla/").content.decode()
    started = outage.started_at.astimezone(UTC)
    # Shortly after midnight UTC the onset was yesterday, and the sentence names the day.
    day = "" if started.date() == timezone.now().astimezone(UTC).date() else f"{started:%B} {started.day}, "
    assert (
        f"User reports indicate problems at Tesla since {day}{started:%H:%M} UTC, mostly in Europe: "
        "503 errors on sentinel mode and remote unlock."
    ) in html
    assert 'class="badge badge-problems"' in html
    for name in ("timeline", "map", "region", "code", "feature"):
        assert f'data-src="/status/tesla/chart/{name}.json"' in html
        assert f'href="/status/tesla/chart/{name}.csv?range=24h"' in html
    # The timeline and its text alternative come with the page; the others load right after it.
    assert 'id="chart-timeline-data"' in html and "reports in this period" in html
    assert f'href="/incidents/{outage.id}/"' in html
    assert "/static/plotly/plotly.min.js" in html and "cdn" not in html.lower()


def test_comments_are_shown_escaped(client, outage):
    html = client.get("/status/tesla/").content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; app says 503" in html
    assert "<script>alert(" not in html


@pytest.mark.parametrize(("range_key", "points", "per"), [("24h", 96, "15 minutes"), ("7d", 168, "hour"),
                                                          ("30d", 720, "hour")])  # fmt: skip
def test_the_timeline_json_counts_every_report_of_the_range(client, outage, range_key, points, per):
    body = client.get(f"/status/tesla/chart/timeline.json?range={range_key}").json()
    reports = body["figure"]["data"][-1]
    assert reports["name"] == "Reports"
    assert len(reports["y"]) in (points, points + 1)  # the current, partial bucket may start a new one
    expected = {"24h": 30 + 12 + 5 + 2, "7d": 30 + 12 + 5 + 7 + 2, "30d": 30 + 12 + 5 + 7 + 9 + 2}[range_key]
    assert sum(reports["y"]) == expected
    assert body["figure"]["layout"]["yaxis"]["title"]["text"] == f"Reports per {per}"
    assert [s["fillcolor"] for s in body["figure"]["layout"]["shapes"]] == ["rgba(192, 57, 43, 0.14)"]
    assert "incident" in body["alt_html"]


@pytest.mark.parametrize("interval", ["15m", "1h"])
def test_the_database_rollup_matches_the_minute_series(outage, interval):
    now = timezone.now()
    start, end = now - timedelta(days=30), now
    rolled = selectors.rolled_timeseries(service_id=outage.service_id, start=start, end=end, interval=interval)
    minutely = selectors.timeseries(service_id=outage.service_id, start=start, end=end, interval=interval)
    assert rolled.equals(minutely) and rolled.sum() == 65


def test_breakdowns_and_map_come_with_shares_and_a_table(client, outage):
    region = client.get("/status/tesla/chart/region.json?range=24h").json()
    bar = region["figure"]["data"][0]
    assert bar["y"][-1] == "Europe" and bar["x"][-1] == 30 + 12 + 2
    assert "<table" in region["alt_html"] and "Europe" in region["alt_html"]
    feature = client.get("/status/tesla/chart/feature.json?range=24h").json()
    assert feature["figure"]["data"][0]["y"][-1] == "Sentinel mode"
    world = client.get("/status/tesla/chart/map.json?range=30d").json()["figure"]["data"][0]
    assert dict(zip(world["locations"], world["z"], strict=True)) == {"FRA": 32, "DEU": 12, "USA": 12, "JPN": 9}


def test_every_chart_exports_csv(client, outage):
    response = client.get("/status/tesla/chart/timeline.csv?range=24h")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="tremor-tesla-timeline-24h.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:2] == ["bucket_start_utc", "reports"] and sum(int(r[1]) for r in rows[1:]) == 49
    codes = client.get("/status/tesla/chart/code.csv?range=7d").content.decode().splitlines()
    assert codes[0] == "code,reports,share_percent" and codes[1].startswith("503,44,")


def test_unknown_charts_and_services_are_404(client, outage):
    assert client.get("/status/tesla/chart/nope.json").status_code == 404
    assert client.get("/status/tesla/chart/timeline.xml").status_code == 404
    assert client.get("/status/nope/chart/timeline.json").status_code == 404
    assert client.get("/incidents/999999/").status_code == 404


def test_the_chart_data_endpoint_reads_a_bounded_number_of_queries(client, outage, django_assert_max_num_queries):
    # A cold call also fits the detector's profile for the band (its history:
    # a handful of queries, then cached for the 6-hour refit period) after
    # looking for it in the database, and stores it there: 4 queries, plus
    # their savepoints inside the test's transaction.
    with django_assert_max_num_queries(20):
        client.get("/status/tesla/chart/timeline.json?range=30d")


def test_within_a_minute_a_chart_is_served_from_the_cache(client, outage, django_assert_num_queries):
    first = client.get("/status/tesla/chart/map.json?range=30d").json()
    with django_assert_num_queries(1):  # the service itself; the chart comes from Redis
        again = client.get("/status/tesla/chart/map.json?range=30d").json()
    assert again == first
    french = client.get("/status/tesla/chart/map.json?range=30d", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert french["figure"]["data"][0]["text"] != first["figure"]["data"][0]["text"]


def test_the_baseline_band_is_drawn_when_the_detector_has_one(client, outage, monkeypatch):
    import pandas as pd

    def band(*, service_id, start, end, interval):
        index = pd.date_range(pd.Timestamp(start).floor("15min"), pd.Timestamp(end), freq="15min", inclusive="left")
        return pd.DataFrame({"expected": 2.0, "upper": 6.0}, index=index)

    monkeypatch.setattr(public.selectors, "baseline_band", band)
    data = client.get("/status/tesla/chart/timeline.json?range=24h").json()["figure"]["data"]
    assert [t["name"] for t in data] == ["Normal range", "Typical level", "Reports"]
    assert set(data[0]["y"]) == {6.0}
    rows = client.get("/status/tesla/chart/timeline.csv?range=24h").content.decode().splitlines()
    assert rows[1].endswith(",2.0,6.0")


def test_the_incident_page_gives_times_scope_permalink_and_embed_code(client, outage):
    html = client.get(f"/incidents/{outage.id}/").content.decode()
    assert f'<time datetime="{outage.started_at.isoformat(timespec="microseconds")}' in html
    assert 'data-local="local-peak"' in html and "still ongoing" in html
    assert "Europe" in html and "96.5 %" in html and "Sentinel mode" in html and "55.0 %" in html
    assert html.index("France") < html.index("Germany")  # 60 % before 30 %, whatever order jsonb keeps
    assert f'href="http://testserver/incidents/{outage.id}/"' in html
    assert f'&lt;iframe src="http://testserver/embed/incidents/{outage.id}/"' in html
    data = client.get(f"/incidents/{outage.id}/chart/timeline.json").json()
    assert sum(data["figure"]["data"][-1]["y"]) == 30 + 12 + 2
    assert client.get(f"/incidents/{outage.id}/chart/timeline.csv").status_code == 200


def test_only_embeds_may_be_framed(client, outage):
    assert client.get("/status/tesla/")["X-Frame-Options"] == "DENY"
    assert client.get(f"/incidents/{outage.id}/")["X-Frame-Options"] == "DENY"
    for url in ("/embed/status/tesla/", f"/embed/incidents/{outage.id}/"):
        response = client.get(url)
        assert response.status_code == 200 and not response.has_header("X-Frame-Options")
        assert 'id="chart-' in response.content.decode()


def test_home_puts_services_with_problems_first_and_searches_by_name(client, outage):
    busy = service_create(slug="busy", name="Zebra Mail")
    add_reports_busy = [
        Report(service=busy, feature=busy.features.get(slug="other"), code="none", country="US", region="NA",
               observed_at=timezone.now() - timedelta(minutes=3), received_at=timezone.now(), source="import")
        for _ in range(80)
    ]  # fmt: skip
    Report.objects.bulk_create(add_reports_busy)
    html = client.get("/").content.decode()
    assert html.index("Tesla") < html.index("Zebra Mail")  # problems beat a busier normal service
    assert html.count('class="badge badge-problems"') == 1 and html.count('class="badge badge-normal"') == 1
    assert html.count("<polyline points=") == 2
    found = client.get("/?q=zeb").content.decode()
    assert "Zebra Mail" in found and ">Tesla<" not in found


def test_status_json_feeds_the_minute_refresh(client, outage):
    body = client.get("/status/tesla/status.json").json()
    assert body["level"] == "problems" and body["sentence"].startswith("User reports indicate problems at Tesla")
    assert body["reports_last_hour"] == 2
