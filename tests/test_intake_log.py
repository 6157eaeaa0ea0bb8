"""The durable intake log: single reports acknowledged from a Redis Stream, stored by the flusher.

A private redis-server with AOF and appendfsync always (as the Procfile runs it);
the suite's shared Redis has no AOF, so everywhere else intake INSERTs directly.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.bucketing import bucket_new_reports
from analytics.models import BucketingState
from analytics.selectors import report_counts, timeseries, total_count
from reports import flusher, intake_log
from reports.models import Report
from reports.selectors import recent_report_count
from tests.support.servers import RedisServer, cache_on

BODY = {"service": "tesla", "feature": "climate", "code": "503", "country": "FR"}


@pytest.fixture
def aof_redis(tmp_path):
    redis = RedisServer(tmp_path / "redis", aof=True).start()
    with cache_on(redis, prefix="log-test"):
        yield redis
    redis.stop()


def _post(api, ua: str, **extra):
    return api.post("/api/v1/reports/", {**BODY, **extra}, format="json", HTTP_USER_AGENT=ua)


def test_it_uses_the_log_only_when_redis_fsyncs_every_write(aof_redis):
    assert intake_log.mode(fresh=True).logged
    intake_log.client().config_set("appendfsync", "everysec")
    mode = intake_log.mode(fresh=True)
    assert not mode.logged and "everysec" in mode.reason
    intake_log.client().config_set("appendfsync", "always")
    intake_log.client().config_set("appendonly", "no")
    assert "appendonly no" in intake_log.mode(fresh=True).reason


def test_the_suites_shared_redis_without_aof_means_direct_inserts(api, tesla):
    intake_log._mode = None
    assert not intake_log.mode(fresh=True).logged
    r = _post(api, "direct")
    assert r.status_code == 201 and r.json()["id"] == Report.objects.get().pk and r.json()["log_entry"] is None


def test_a_report_is_acknowledged_from_the_log_and_counted_once_before_and_after_the_flush(api, tesla, aof_redis):
    now = timezone.now()
    answers = [_post(api, f"ua-{i}") for i in range(3)]
    assert [r.status_code for r in answers] == [201] * 3
    assert all(r.json()["id"] is None and r.json()["log_entry"] for r in answers)
    assert _post(api, "ua-0").json()["counted"] is False  # dedupe still claims in the same script
    assert not Report.objects.exists() and intake_log.client().xlen(intake_log.stream_key()) == 3

    def counts():
        span = {"start": now - timedelta(hours=1), "end": now + timedelta(minutes=5)}
        series = timeseries(service_id=tesla.id, interval="1m", **span)
        by_feature = report_counts(group_by=["feature__slug"], filters={"country": "FR"}, **span)
        return (total_count(service_id=tesla.id, **span), int(series.sum()), by_feature.to_dict("records"),
                recent_report_count(service_id=tesla.id, since=span["start"], until=span["end"]))  # fmt: skip

    before = counts()
    assert before == (3, 3, [{"feature__slug": "climate", "n": 3}], 3)
    flusher.ensure_group()
    assert flusher.flush_once(consumer="t", block_ms=10) == 3
    assert intake_log.client().xlen(intake_log.stream_key()) == 0
    assert counts() == before
    stored = list(Report.objects.order_by("log_entry").values_list("log_entry", "fingerprint", "source"))
    assert [intake_log.entry_number(r.json()["log_entry"]) for r in answers] == [s[0] for s in stored]
    assert all(fp and source == "api" for _, fp, source in stored)


def test_the_form_goes_through_the_log_too(client, tesla, aof_redis):
    form = {"feature": "climate", "code": "none", "country": "FR"}
    assert client.post(f"/status/{tesla.slug}/report/", form).status_code == 302
    assert not Report.objects.exists() and intake_log.client().xlen(intake_log.stream_key()) == 1
    page = client.get(f"/status/{tesla.slug}/report/thanks/?counted=1")
    assert page.status_code == 200


def test_an_entry_delivered_twice_is_stored_once(api, tesla, aof_redis):
    _post(api, "twice")
    entries = intake_log.entries()
    assert flusher.store(entries) == 1
    # A crash after the commit, before the ack: the entry comes back and is skipped.
    flusher.ensure_group()
    assert flusher.flush_once(consumer="t", block_ms=10) == 0
    assert Report.objects.count() == 1 and intake_log.client().xlen(intake_log.stream_key()) == 0


def test_a_flush_that_commits_while_a_reader_counts_is_counted_once(api, tesla, aof_redis):
    _post(api, "race-1")
    _post(api, "race-2")
    entries = intake_log.entries()
    flushed_meanwhile = []

    def count_db():
        if not flushed_meanwhile:  # the flusher commits between the reader's two looks at the table
            flushed_meanwhile.append(flusher.store(entries))
        return Report.objects.count()

    def stored(first):
        return set(Report.objects.filter(log_entry__gte=first).values_list("log_entry", flat=True))

    counted, pending = intake_log.count_once(entries, count_db, stored)
    assert flushed_meanwhile == [2] and counted + len(pending) == 2


def test_bucketing_keeps_the_raw_tail_open_while_old_entries_wait_in_the_log(api, tesla, aof_redis):
    _post(api, "old")
    later = timezone.now() + timedelta(minutes=10)
    bucket_new_reports(now=later)
    state = BucketingState.objects.get()
    assert state.bucketed_until <= intake_log.unflushed()[0].observed_at < later
    span = {"start": later - timedelta(hours=1), "end": later, "service_id": tesla.id}
    assert total_count(**span) == 1
    flusher.ensure_group()
    flusher.flush_once(consumer="t", block_ms=10, now=later + timedelta(seconds=30))
    assert total_count(**span) == 1  # stored, in the raw tail until bucketed
    next_run = later + timedelta(minutes=1)
    bucket_new_reports(now=next_run)
    assert BucketingState.objects.get().bucketed_until == next_run.replace(second=0, microsecond=0)
    assert total_count(**span) == 1


def test_a_comment_with_tabs_and_newlines_survives_the_flush(api, tesla, aof_redis):
    _post(api, "comment", comment="line one\n\ttab \\ backslash")
    flusher.ensure_group()
    flusher.flush_once(consumer="t", block_ms=10)
    assert Report.objects.get().comment == "line one\n\ttab \\ backslash"


def test_the_flushers_lag_shows_in_readiness_metrics_and_the_admin(api, admin_client, tesla, aof_redis):
    _post(api, "lag")
    ready = api.get("/health/ready/").json()
    assert ready["status"] == "ok"
    assert ready["checks"]["intake_log"] | {"ms": 0} == {
        "ok": True, "mode": "log", "reason": "Redis AOF with appendfsync always", "unflushed": 1,
        "oldest_seconds": ready["checks"]["intake_log"]["oldest_seconds"], "ms": 0,
    }  # fmt: skip
    metrics = api.get("/metrics").content.decode()
    assert "tremor_intake_log_unflushed 1.0" in metrics
    page = admin_client.get("/admin/reports/report/").content.decode()
    assert "acknowledged from the intake log; 1 waiting to be stored" in page
