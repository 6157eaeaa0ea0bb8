"""Abuse of the open door: floods, bots, forged posts, missing tokens, and leaks.

Everything goes through the real code path (test client against the whole
middleware stack, real Redis for dedupe and throttling).
"""

import time

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from analytics.models import Incident
from reports.api.throttles import ReportFormThrottle, ReportSubmitThrottle
from reports.models import ApiToken, Report
from tests.support.servers import once_per_suite_run

URL = "/api/v1/reports/"
BODY = {"service": "tesla", "feature": "climate", "code": "503", "country": "FR"}
FORM = {"feature": "climate", "code": "503", "country": "FR"}
FLOOD = 10_000


@pytest.fixture
def no_api_throttle(monkeypatch):
    # The flood must reach dedupe: the throttle (10/min) would otherwise answer
    # 429 after ten requests. It is tested on its own below and in test_throttle.py.
    monkeypatch.setattr(ReportSubmitThrottle, "THROTTLE_RATES", {"report_submit": "1000000/min"})


@once_per_suite_run("10,000 requests whose outcome is decided in Redis")
def test_a_flood_of_ten_thousand_reports_from_one_client_counts_once(api, tesla, no_api_throttle):
    statuses: dict[int, int] = {}
    t0 = time.monotonic()
    for _ in range(FLOOD):
        response = api.post(URL, BODY, format="json", HTTP_USER_AGENT="flooder/1.0", REMOTE_ADDR="198.51.100.7")
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    elapsed = time.monotonic() - t0
    print(f"{FLOOD} reports from one client in {elapsed:.1f}s: {statuses}")
    assert statuses == {201: 1, 200: FLOOD - 1}
    assert Report.objects.count() == 1


def test_a_flood_counts_once_per_dedupe_window(api, tesla, no_api_throttle):
    window = 1
    sent, t0 = 0, time.monotonic()
    with override_settings(TREMOR_DEDUPE_WINDOW_SECONDS=window):
        while time.monotonic() - t0 < 3.5 * window:
            api.post(URL, BODY, format="json", HTTP_USER_AGENT="flooder/1.0", REMOTE_ADDR="198.51.100.7")
            sent += 1
    windows = (time.monotonic() - t0) / window
    stored = Report.objects.count()
    print(f"{sent} reports over {windows:.1f} windows of {window}s: {stored} counted")
    assert sent > 100
    assert int(windows) <= stored <= int(windows) + 1


def test_the_api_throttle_answers_429_with_retry_after(api, tesla):
    codes = [
        api.post(URL, BODY, format="json", HTTP_USER_AGENT=f"ua-{i}", REMOTE_ADDR="198.51.100.8").status_code
        for i in range(11)
    ]
    response = api.post(URL, BODY, format="json", HTTP_USER_AGENT="ua-x", REMOTE_ADDR="198.51.100.8")
    cap = settings.TREMOR_DEDUPE_PER_NETWORK  # ten user agents on one address: one network, counted `cap` times
    assert codes[:10] == [201] * cap + [200] * (10 - cap) and codes[10] == 429 and response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60


def test_the_form_is_throttled_per_client_too(client, tesla):
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["report_form"].split("/")[0])
    codes = [
        client.post("/status/tesla/report/", FORM, HTTP_USER_AGENT=f"ua-{i}", REMOTE_ADDR="198.51.100.9").status_code
        for i in range(limit + 5)
    ]
    assert codes[:limit] == [302] * limit  # to the thanks page
    assert codes[limit:] == [429] * 5
    refused = client.post("/status/tesla/report/", FORM, REMOTE_ADDR="198.51.100.9")
    assert 0 < int(refused["Retry-After"]) <= 60
    assert Report.objects.count() == settings.TREMOR_DEDUPE_PER_NETWORK  # one network, however many browsers
    # Another client is not affected.
    assert client.post("/status/tesla/report/", FORM, REMOTE_ADDR="198.51.100.10").status_code == 302
    assert ReportFormThrottle.scope != ReportSubmitThrottle.scope


def test_a_form_flood_from_one_browser_counts_once(client, tesla):
    for _ in range(25):
        client.post("/status/tesla/report/", FORM, HTTP_USER_AGENT="same-browser", REMOTE_ADDR="198.51.100.11")
    assert Report.objects.count() == 1


def test_the_honeypot_looks_like_success_and_stores_nothing(client, tesla):
    response = client.post("/status/tesla/report/", {**FORM, "website": "http://spam.example"})
    assert response.status_code == 302 and "/thanks/" in response["Location"]
    assert Report.objects.count() == 0


def test_the_form_refuses_a_post_without_its_csrf_token(tesla):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/status/tesla/report/", FORM).status_code == 403
    forged = browser.post("/status/tesla/report/", {**FORM, "csrfmiddlewaretoken": "x" * 64})
    assert forged.status_code == 403
    browser.get("/status/tesla/report/")  # sets the cookie
    token = browser.cookies["csrftoken"].value
    assert browser.post("/status/tesla/report/", {**FORM, "csrfmiddlewaretoken": token}).status_code == 302
    assert Report.objects.count() == 1


@pytest.mark.parametrize("auth", [None, "Token nope", "Token trm_00000000_forged", "Bearer "])
def test_bulk_intake_and_webhook_management_need_a_valid_token(api, tesla, auth):
    if auth:
        api.credentials(HTTP_AUTHORIZATION=auth)
    bulk = api.post("/api/v1/reports/bulk/", {"reports": [BODY]}, format="json")
    hooks = api.get("/api/v1/webhooks/")
    create = api.post("/api/v1/webhooks/", {"url": "https://hooks.example.com/x"}, format="json")
    assert bulk.status_code in (401, 403) and hooks.status_code in (401, 403) and create.status_code in (401, 403)
    assert Report.objects.count() == 0


def test_a_revoked_token_is_refused(partner, tesla):
    ApiToken.objects.update(revoked_at=timezone.now())
    assert partner.post("/api/v1/reports/bulk/", {"reports": [BODY]}, format="json").status_code in (401, 403)


def test_the_admin_needs_a_staff_login(client, django_user_model, tesla):
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/reports/report/").status_code == 302
    django_user_model.objects.create_user("owner", password="pw-owner-123")
    client.login(username="owner", password="pw-owner-123")
    assert client.get("/admin/reports/report/").status_code == 302  # not staff
    django_user_model.objects.create_user("staff", password="pw-staff-123", is_staff=True, is_superuser=True)
    client.login(username="staff", password="pw-staff-123")
    assert client.get("/admin/reports/report/").status_code == 200


def _get_urls(client) -> list[str]:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    incident = Incident.objects.first()
    urls = []
    for path, operations in schema["paths"].items():
        if "get" in operations:
            urls.append(path.replace("{slug}", "tesla").replace("{id}", "1").replace("{pk}", "1"))
    urls += ["/", "/status/tesla/", "/status/tesla/report/", "/status/tesla/status.json", "/status/tesla/feed/"]
    urls += [
        "/incidents/feed/",
        "/embed/status/tesla/",
        f"/incidents/{incident.pk}/",
        f"/embed/incidents/{incident.pk}/",
    ]
    return urls


def test_no_endpoint_leaks_fingerprints_tokens_or_secrets(api, partner, tesla):
    api.post(URL, BODY, format="json", HTTP_USER_AGENT="leak-check", REMOTE_ADDR="198.51.100.12")
    report = Report.objects.get()
    assert report.fingerprint
    key = partner._credentials["HTTP_AUTHORIZATION"].split()[1]
    token = ApiToken.objects.get()
    created = partner.post("/api/v1/webhooks/", {"url": "https://hooks.example.com/x"}, format="json")
    assert created.status_code == 201, created.content
    hook_secret = created.json()["secret"]  # shown once, at creation
    now = timezone.now()
    Incident.objects.create(
        service=tesla, started_at=now, detected_at=now, peak_at=now,
        peak_reports_per_minute=9, baseline_at_peak=1, excess_reports=8,
    )  # fmt: skip
    secrets = {
        "fingerprint": report.fingerprint,
        "token": key,
        "token hash": token.key_hash,
        "webhook secret": hook_secret,
        "SECRET_KEY": settings.SECRET_KEY,
    }
    checked = 0
    for url in _get_urls(api):
        for client in (api, partner):
            response = client.get(url)
            assert response.status_code < 500, url
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = body.decode(errors="replace")
            leaked = [name for name, value in secrets.items() if value in text]
            assert not leaked, f"{url} leaks {leaked}"
            assert "fingerprint" not in text.lower() or url == "/api/docs/", url
            checked += 1
    print(f"{checked} responses checked for leaks")
    assert checked >= 20
