import time
from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone

from analytics.models import Bucket
from analytics.tasks import bucket_reports
from tests.support.reports import add_reports


def test_a_real_worker_buckets_reports_sent_through_redis(tesla, celery_worker_process):
    at = timezone.now() - timedelta(minutes=3)
    add_reports(tesla, at=at, n=4, source="api")
    bucket_reports.delay()
    bucket_reports.delay()  # twice: still counted once
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if Bucket.objects.aggregate(n=Sum("total"))["n"] == 4:
            break
        time.sleep(0.2)
    time.sleep(1)  # let the second run finish too
    assert Bucket.objects.aggregate(n=Sum("total"))["n"] == 4


def test_the_beat_schedule_buckets_every_minute():
    from celery.schedules import crontab
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["bucket-reports"]
    assert entry["task"] == "analytics.tasks.bucket_reports"
    assert entry["schedule"] == crontab()
