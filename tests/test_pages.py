from datetime import timedelta

from django.utils import timezone

from reports.services import service_create
from tests.support.reports import add_reports


def add(service, n, *, ago=timedelta(minutes=5)):
    add_reports(service, at=timezone.now() - ago, n=n, feature="other", code="none")


def test_home_lists_services_with_most_reports_in_the_last_hour_first(client, tesla):
    quiet = service_create(slug="quiet", name="Aardvark Cloud")
    busy = service_create(slug="busy", name="Zebra Mail")
    add(busy, 5)
    add(tesla, 2)
    add(quiet, 50, ago=timedelta(hours=5))  # busy yesterday, quiet in the last hour
    html = client.get("/").content.decode()
    assert html.index("Zebra Mail") < html.index("Tesla") < html.index("Aardvark Cloud")


def test_the_service_page_shows_counts_and_the_report_button(client, tesla):
    add(tesla, 2)
    add(tesla, 3, ago=timedelta(hours=2))
    html = client.get("/status/tesla/").content.decode()
    assert "2 reports in the last hour" in html
    assert "5 reports in the last 24 hours" in html
    assert 'href="/status/tesla/report/"' in html


def test_an_unknown_service_page_is_a_404(client, db):
    assert client.get("/status/nope/").status_code == 404
    assert client.get("/status/nope/report/").status_code == 404
