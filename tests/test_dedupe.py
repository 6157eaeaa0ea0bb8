import time

from django.test import override_settings

from analytics.selectors import total_count
from reports.models import Report

URL = "/api/v1/reports/"
BODY = {"service": "tesla", "feature": "climate", "code": "503", "country": "DE"}


def post(api, ua="app/1", addr="198.51.100.1"):
    return api.post(URL, BODY, format="json", HTTP_USER_AGENT=ua, REMOTE_ADDR=addr)


def test_a_second_report_within_the_window_is_not_counted(api, tesla):
    first, second = post(api), post(api)
    assert (first.status_code, first.json()["counted"]) == (201, True)
    assert (second.status_code, second.json()["counted"]) == (200, False)
    assert second.json()["id"] is None
    assert Report.objects.count() == 1


def test_a_duplicate_never_inflates_a_count(api, tesla):
    from django.utils import timezone

    for _ in range(5):
        post(api)
    now = timezone.now()
    assert (
        total_count(start=now.replace(hour=0, minute=0), end=now.replace(year=now.year + 1), service_id=tesla.id) == 1
    )


def test_other_reporters_are_counted(api, tesla):
    assert post(api, ua="app/1").status_code == 201
    assert post(api, ua="app/2").status_code == 201
    assert post(api, addr="198.51.100.2").status_code == 201
    assert Report.objects.count() == 3


def test_the_same_reporter_counts_again_for_another_service(api, tesla):
    from reports.services import service_create

    service_create(slug="netflix", name="Netflix", features=["play"])
    assert post(api).status_code == 201
    response = api.post(
        URL,
        {**BODY, "service": "netflix", "feature": "play"},
        format="json",
        HTTP_USER_AGENT="app/1",
        REMOTE_ADDR="198.51.100.1",
    )
    assert response.status_code == 201


@override_settings(TREMOR_DEDUPE_WINDOW_SECONDS=1)
def test_the_reporter_counts_again_after_the_window(api, tesla):
    assert post(api).status_code == 201
    assert post(api).status_code == 200
    time.sleep(1.2)
    assert post(api).status_code == 201
