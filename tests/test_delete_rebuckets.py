"""Deleting reports (spam) recomputes the minute buckets that counted them: charts and detection drop them now."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from analytics.bucketing import bucket_new_reports, floor_minute
from analytics.models import Bucket
from analytics.selectors import total_count
from reports.models import Report
from tests.support.reports import add_reports


def _setup(tesla):
    now = timezone.now()
    minute = floor_minute(now) - timedelta(minutes=30)
    add_reports(tesla, at=minute + timedelta(seconds=5), n=3, country="FR")
    add_reports(tesla, at=minute + timedelta(seconds=10), n=40, country="BR", region="LATAM")  # the spam
    add_reports(
        tesla, at=minute + timedelta(minutes=5), n=20, country="BR", region="LATAM"
    )  # spam, alone in its minute
    bucket_new_reports(now=now)
    return minute, now


def _bucketed(tesla, minute):
    return total_count(start=minute, end=minute + timedelta(minutes=10), service_id=tesla.id)


def test_a_queryset_delete_rebuckets_the_affected_minutes(tesla):
    minute, _ = _setup(tesla)
    assert _bucketed(tesla, minute) == 63
    Report.objects.filter(country="BR").delete()
    assert _bucketed(tesla, minute) == 3
    # The minute whose reports were all spam has no bucket left at all.
    assert list(Bucket.objects.filter(service_id=tesla.id).values_list("minute", "total")) == [(minute, 3)]


def test_deleting_in_the_admin_rebuckets(tesla, client):
    minute, _ = _setup(tesla)
    admin = get_user_model().objects.create_superuser("root", password="pw-root-123")
    client.force_login(admin)
    spam = list(Report.objects.filter(country="BR").values_list("pk", flat=True))
    response = client.post(
        "/admin/reports/report/", {"action": "delete_selected", "_selected_action": spam[:40], "post": "yes"}
    )
    assert response.status_code == 302
    assert _bucketed(tesla, minute) == 23
    one = Report.objects.filter(country="BR").first()
    assert client.post(f"/admin/reports/report/{one.pk}/delete/", {"post": "yes"}).status_code == 302
    assert _bucketed(tesla, minute) == 22


def test_deleting_one_report_rebuckets(tesla):
    minute, _ = _setup(tesla)
    Report.objects.filter(country="FR").first().delete()
    assert _bucketed(tesla, minute) == 62
