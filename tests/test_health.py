"""`/health/` and `/health/ready/` for a load balancer or an orchestrator, in process."""

import pytest
from django.db import connection

from ops import checks


@pytest.fixture(autouse=True)
def _migrations_looked_at_again(monkeypatch):
    monkeypatch.setattr(checks, "_migrated", False)


def test_liveness_answers_without_the_database(client):
    response = client.get("/health/")  # no db mark: any query would raise
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_probes_answer_any_host_name_and_plain_http(client, settings):
    # A kubelet probes http://<pod address>:8000/health/: neither ALLOWED_HOSTS nor the HTTPS redirect apply.
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/health/", HTTP_HOST="10.0.3.7:8000").status_code == 200
    assert client.get("/health/ready/", HTTP_HOST="10.0.3.7:8000").status_code == 200
    assert client.get("/api/v1/services/", HTTP_HOST="10.0.3.7:8000").status_code == 400


@pytest.mark.django_db
def test_readiness_looks_at_the_database_redis_migrations_and_workers(client):
    body = client.get("/health/ready/").json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "migrations", "workers", "intake_log"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["database"]["vendor"] == connection.vendor


@pytest.mark.django_db
def test_readiness_fails_when_redis_does_not_answer(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/health/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["checks"]["redis"]["ok"] is False
    assert "Connection" in body["checks"]["redis"]["error"] and body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_readiness_fails_while_migrations_are_pending(client, monkeypatch):
    monkeypatch.setattr(checks.MigrationExecutor, "migration_plan", lambda self, targets: [("x", False)])
    response = client.get("/health/ready/")
    assert response.status_code == 503
    assert "1 migration(s) not applied" in response.json()["checks"]["migrations"]["error"]


@pytest.mark.django_db
def test_workers_never_seen_is_a_warning_not_a_failure(client):
    body = client.get("/health/ready/").json()
    assert body["status"] == "ok" and "warning" in body["checks"]["workers"]


@pytest.mark.django_db
def test_a_finished_task_counts_as_a_worker_seen(client):
    from analytics.tasks import bucket_reports

    bucket_reports.apply()
    workers = client.get("/health/ready/").json()["checks"]["workers"]
    assert "warning" not in workers and workers["last_task_seconds_ago"] < 60


def test_requests_carry_a_request_id_given_or_made(client):
    given = client.get("/health/", HTTP_X_REQUEST_ID="abc-123")
    assert "X-Request-ID" not in given  # probes are answered before the request id middleware
    page = client.get("/api/docs/", HTTP_X_REQUEST_ID="abc-123")
    assert page["X-Request-ID"] == "abc-123"
    forged = client.get("/api/docs/", HTTP_X_REQUEST_ID="x\n{evil}")
    assert forged["X-Request-ID"] != "x\n{evil}" and len(forged["X-Request-ID"]) == 32
