"""`/metrics`: Prometheus text format, guarded by an allow-list of addresses or a bearer token."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from analytics.models import BucketingState, Incident, Level

REPORT = {"service": "tesla", "feature": "climate", "code": "503", "country": "FR"}


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_only_allowed_addresses_or_the_token_may_scrape(client, settings, db):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    settings.TREMOR_METRICS_ALLOW = ["203.0.113.0/24"]
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    settings.TREMOR_METRICS_TOKEN = "s3cret"
    ok = client.get("/metrics", REMOTE_ADDR="198.51.100.1", HTTP_AUTHORIZATION="Bearer s3cret")
    assert ok.status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="198.51.100.1", HTTP_AUTHORIZATION="Bearer nope").status_code == 403


def test_reports_accepted_duplicate_and_throttled_are_counted(client, api, tesla, settings):
    before = scrape(client)
    assert api.post("/api/v1/reports/", REPORT, format="json").status_code == 201
    assert api.post("/api/v1/reports/", REPORT, format="json").status_code == 200  # same reporter: duplicate
    for _ in range(12):
        api.post("/api/v1/reports/", REPORT, format="json")  # past 10/min
    after = scrape(client)
    delta = {o: value(after, "tremor_reports_total", source="api", outcome=o)
             - value(before, "tremor_reports_total", source="api", outcome=o)
             for o in ("accepted", "duplicate", "throttled")}  # fmt: skip
    assert delta["accepted"] == 1 and delta["duplicate"] == 9 and delta["throttled"] == 4


def test_requests_are_counted_and_timed_by_url_pattern(client, api, tesla):
    before = scrape(client)
    api.get("/api/v1/services/tesla/")
    after = scrape(client)
    route = "api/v1/services/<slug:slug>/"
    count = "tremor_http_request_duration_seconds_count"
    assert value(after, count, route=route) == value(before, count, route=route) + 1
    assert value(after, "tremor_http_requests_total", method="GET", status="200") > value(
        before, "tremor_http_requests_total", method="GET", status="200"
    )


def test_stored_state_is_read_at_scrape_time(client, tesla):
    now = timezone.now()
    BucketingState.objects.update_or_create(id=1, defaults={"bucketed_until": now - timedelta(seconds=90)})
    Incident.objects.create(
        service=tesla, status=Incident.Status.ONGOING, level=Level.PROBLEMS, started_at=now, detected_at=now,
        peak_at=now, peak_reports_per_minute=40, baseline_at_peak=2, excess_reports=100,
    )  # fmt: skip
    samples = scrape(client)
    assert 90 <= value(samples, "tremor_bucketing_lag_seconds") < 150
    assert value(samples, "tremor_open_incidents", level="problems") == 1
    assert value(samples, "tremor_open_incidents", level="possible") == 0
    assert value(samples, "tremor_webhook_deliveries_pending") == 0
    assert value(samples, "tremor_queue_depth", queue="webhooks") == 0
    assert value(samples, "tremor_up", store="database") == 1 and value(samples, "tremor_up", store="redis") == 1


@pytest.mark.django_db
def test_a_detection_batch_leaves_its_duration(client, tesla):
    from analytics.tasks import detect_batch

    detect_batch.apply(args=[[tesla.id]])
    samples = scrape(client)
    assert 0 < value(samples, "tremor_tick_batch_duration_seconds") < 60
    assert value(samples, "tremor_tick_last_timestamp_seconds") > timezone.now().timestamp() - 60


@pytest.mark.django_db
def test_a_store_that_does_not_answer_shows_as_down_not_as_an_error(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    samples = scrape(client)
    assert value(samples, "tremor_up", store="redis") == 0 and value(samples, "tremor_up", store="database") == 1
