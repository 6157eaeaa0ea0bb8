import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Sum

from analytics.bucketing import bucket_new_reports, rebuild_buckets
from analytics.models import Bucket, BucketSlice
from tests.support.reports import add_reports

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def add(service, *, at, received=None, country="FR", region="EU", code="503", feature="climate", n=1):
    add_reports(service, at=at, n=n, received=received, country=country, region=region, code=code, feature=feature)


def bucket_total():
    return Bucket.objects.aggregate(n=Sum("total"))["n"] or 0


def test_it_buckets_closed_minutes_only(tesla):
    add(tesla, at=T0 + timedelta(seconds=5), n=3)
    add(tesla, at=T0 + timedelta(minutes=1, seconds=5), n=2)  # the current, open minute
    bucket_new_reports(now=T0 + timedelta(minutes=1, seconds=30))
    assert list(Bucket.objects.values_list("minute", "total")) == [(T0, 3)]


def test_it_keeps_slices_apart(tesla):
    add(tesla, at=T0, n=2)
    add(tesla, at=T0, country="US", region="NA", code="500", n=1)
    bucket_new_reports(now=T0 + timedelta(minutes=2))
    rows = set(BucketSlice.objects.values_list("region", "country", "code", "count"))
    assert rows == {("EU", "FR", "503", 2), ("NA", "US", "500", 1)}


def test_running_twice_never_double_counts(tesla):
    add(tesla, at=T0, n=4)
    bucket_new_reports(now=T0 + timedelta(minutes=2))
    bucket_new_reports(now=T0 + timedelta(minutes=2))
    bucket_new_reports(now=T0 + timedelta(minutes=3))
    assert bucket_total() == 4


def test_a_late_report_is_picked_up_on_the_next_run(tesla):
    add(tesla, at=T0, n=2)
    bucket_new_reports(now=T0 + timedelta(minutes=2))
    # Arrives an hour later for the minute already bucketed (bulk observed_at).
    add(tesla, at=T0 + timedelta(seconds=30), received=T0 + timedelta(hours=1))
    bucket_new_reports(now=T0 + timedelta(hours=1, minutes=1))
    assert list(Bucket.objects.values_list("minute", "total")) == [(T0, 3)]


def test_a_report_of_the_open_minute_is_bucketed_once_closed(tesla):
    add(tesla, at=T0 + timedelta(seconds=50))
    bucket_new_reports(now=T0 + timedelta(seconds=55))
    assert bucket_total() == 0
    bucket_new_reports(now=T0 + timedelta(minutes=1, seconds=5))
    assert bucket_total() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_never_double_count(tesla):
    for minute in range(30):
        add(tesla, at=T0 + timedelta(minutes=minute), n=3)
    errors = []

    def run():
        try:
            bucket_new_reports(now=T0 + timedelta(hours=1))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert bucket_total() == 90
    assert Bucket.objects.count() == 30 and BucketSlice.objects.count() == 30


def test_rebuild_recomputes_a_range_from_raw_reports(tesla):
    add(tesla, at=T0, n=2)
    bucket_new_reports(now=T0 + timedelta(minutes=2))
    Bucket.objects.update(total=99)  # corrupted
    rebuild_buckets(start=T0 - timedelta(hours=1), end=T0 + timedelta(hours=1))
    assert list(Bucket.objects.values_list("total", flat=True)) == [2]
    assert list(BucketSlice.objects.values_list("count", flat=True)) == [2]


def test_deleting_a_service_or_feature_deletes_its_buckets(tesla):
    # Buckets have no database foreign keys (bulk write speed): Django's own
    # cascade must still remove them, or a re-created id would inherit counts.
    # A feature's counts live inside its service's minute rows: they are
    # recounted without it.
    add(tesla, at=T0, n=2)
    add(tesla, at=T0, feature="honk-flash", n=1)
    add(tesla, at=T0 + timedelta(minutes=1), feature="honk-flash", n=1)
    bucket_new_reports(now=T0 + timedelta(minutes=3))
    assert BucketSlice.objects.count() == 3
    tesla.features.get(slug="honk-flash").delete()
    assert list(Bucket.objects.values_list("minute", "total")) == [(T0, 2)]
    assert list(BucketSlice.objects.values_list("feature__slug", "count")) == [("climate", 2)]
    tesla.delete()
    assert Bucket.objects.count() == 0
