"""Writes of the analytics side: turning raw reports into minute buckets."""

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import TruncMinute
from django.utils import timezone

from reports.models import Report, Service

from .bucketing import MINUTE, floor_minute, merge_minutes
from .models import Bucket, BucketingState

log = logging.getLogger(__name__)

_SLICE = ("service_id", "minute", "region", "country", "code", "feature_id")


def _aggregate(*, start: datetime, end: datetime, service_ids: set[int] | None) -> list[Bucket]:
    """Count reports per minute and slice in the database (GROUP BY), for [start, end)."""
    reports = Report.objects.filter(observed_at__gte=start, observed_at__lt=end)
    if service_ids is not None:
        reports = reports.filter(service_id__in=service_ids)
    rows = reports.annotate(minute=TruncMinute("observed_at")).values(*_SLICE).annotate(n=Count("id")).order_by()
    return [Bucket(count=row.pop("n"), **row) for row in rows.iterator(chunk_size=5000)]


def _upsert(buckets: list[Bucket]) -> None:
    # Absolute counts, not increments: a rerun or a concurrent run writes the
    # same (or a fresher) value, never a double count.
    Bucket.objects.bulk_create(
        buckets,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["service", "minute", "region", "country", "code", "feature"],
        update_fields=["count"],
    )


# The same GROUP BY and upsert in one statement: no bucket row travels to Python
# and back (the ORM round trip cost ~95% of a bucketing run, bench/README.md).
# ORDER BY makes concurrent runs lock rows in one order, so they cannot deadlock.
_UPSERT_SQL = """
INSERT INTO {bucket} (service_id, minute, region, country, code, feature_id, count)
SELECT service_id, date_trunc('minute', observed_at, 'UTC'), region, country, code, feature_id, count(*)
FROM {report}
WHERE observed_at >= %s AND observed_at < %s {services}
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 1, 2, 3, 4, 5, 6
ON CONFLICT (service_id, minute, region, country, code, feature_id) DO UPDATE SET count = EXCLUDED.count
"""


def _bucket(*, start: datetime, end: datetime, service_ids: set[int] | None) -> int:
    """Aggregate [start, end) and upsert the buckets; returns the number of bucket rows written."""
    if connection.vendor != "postgresql":
        buckets = _aggregate(start=start, end=end, service_ids=service_ids)
        _upsert(buckets)
        return len(buckets)
    params: list = [start, end]
    services = ""
    if service_ids is not None:
        services, params = "AND service_id = ANY(%s)", [*params, sorted(service_ids)]
    sql = _UPSERT_SQL.format(bucket=Bucket._meta.db_table, report=Report._meta.db_table, services=services)
    with transaction.atomic(), connection.cursor() as cursor:
        # The GROUP BY sorts up to a day of reports: with the default 4 MB it
        # spills to disk (external merge, ~40% of the SELECT's time).
        cursor.execute(f"SET LOCAL work_mem = '{int(settings.TREMOR_BUCKET_WORK_MEM_MB)}MB'")
        cursor.execute(sql, params)
        return cursor.rowcount


def bucket_new_reports(*, now: datetime | None = None) -> int:
    """Bucket every closed minute touched by reports received since the last run.

    Returns the number of bucket rows written. Safe to run twice or on two
    workers at once; a late report (bulk `observed_at`, import) for a minute
    already bucketed makes that minute be recomputed.
    """
    now = now or timezone.now()
    closed = floor_minute(now)
    state, _ = BucketingState.objects.get_or_create(id=1)
    overlap = timedelta(seconds=settings.TREMOR_BUCKET_OVERLAP_SECONDS)
    new = Report.objects.filter(observed_at__lt=closed)
    if state.scanned_until is not None:
        new = new.filter(received_at__gte=state.scanned_until - overlap)
    touched = new.annotate(minute=TruncMinute("observed_at")).values_list("service_id", "minute").distinct().order_by()
    services_by_minute: dict[datetime, set[int]] = defaultdict(set)
    for service_id, minute in touched:
        services_by_minute[minute].add(service_id)

    written = 0
    for start, end in merge_minutes(services_by_minute):
        service_ids = {s for m, ids in services_by_minute.items() if start <= m < end for s in ids}
        written += _bucket(start=start, end=end, service_ids=service_ids)

    # Only ever move forward: a slower concurrent run must not rewind the state.
    BucketingState.objects.filter(id=1).exclude(scanned_until__gte=now).update(
        scanned_until=now, bucketed_until=closed, updated_at=timezone.now()
    )
    log.info("bucketing: %d bucket rows written up to %s", written, closed.isoformat())
    return written


def bucket_range(*, start: datetime, end: datetime, services: list[str]) -> int:
    """Bucket every minute of [start, end] for the given service slugs (after an import)."""
    service_ids = set(Service.objects.filter(slug__in=services).values_list("id", flat=True))
    written = 0
    day = floor_minute(start)
    while day <= end:
        stop = min(day + timedelta(days=1), floor_minute(end) + MINUTE)
        written += _bucket(start=day, end=stop, service_ids=service_ids)
        day = stop
    return written


def rebuild_buckets(*, start: datetime, end: datetime, progress=None) -> int:
    """Recompute [start, end) from the raw reports, one day at a time."""
    start, written = floor_minute(start), 0
    while start < end:
        stop = min(start + timedelta(days=1), end)
        with transaction.atomic():
            Bucket.objects.filter(minute__gte=start, minute__lt=stop).delete()
            count = _bucket(start=start, end=stop, service_ids=None)
        written += count
        if progress:
            progress(stop, written)
        start = stop
    return written
