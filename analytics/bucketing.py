"""Bucketing: raw reports into per-minute buckets (the writes of the counting side).

Every later step reads these buckets: the selectors, the tick, the replay and the charts.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import TruncMinute
from django.utils import timezone

from reports import intake_log
from reports.models import Report, Service

from .models import Bucket, BucketingState

log = logging.getLogger(__name__)

MINUTE = timedelta(minutes=1)


def merge_minutes(
    minutes: Iterable[datetime], *, max_gap: timedelta = timedelta(minutes=30)
) -> list[tuple[datetime, datetime]]:
    """Sorted half-open [start, end) ranges covering the minutes.

    Minutes closer than `max_gap` share a range: recomputing a few untouched
    minutes costs less than one more query.
    """
    ranges: list[list[datetime]] = []
    for minute in sorted(set(minutes)):
        if ranges and minute - ranges[-1][1] <= max_gap:
            ranges[-1][1] = minute + MINUTE
        else:
            ranges.append([minute, minute + MINUTE])
    return [(start, end) for start, end in ranges]


def floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


# Count per minute and slice, then pack each service-minute's slices into one
# row: the GROUP BY and the upsert in one statement, no row travels to Python
# (bench/README.md). ORDER BY makes concurrent runs lock rows in one order, so
# they cannot deadlock. Absolute counts, not increments: a rerun or a
# concurrent run writes the same (or a fresher) value, never a double count.
_UPSERT_SQL = {
    "postgresql": """
INSERT INTO {bucket} (service_id, minute, total, slices)
SELECT service_id, minute, sum(n), array_agg(ROW(region, country, code, feature_id, n)::analytics_slice)
FROM (
    SELECT service_id, date_trunc('minute', observed_at, 'UTC') AS minute, region, country, code, feature_id,
           count(*)::integer AS n
    FROM {report}
    WHERE observed_at >= %s AND observed_at < %s {services}
    GROUP BY 1, 2, 3, 4, 5, 6
) AS per_slice
GROUP BY service_id, minute
ORDER BY service_id, minute
ON CONFLICT (service_id, minute) DO UPDATE SET total = EXCLUDED.total, slices = EXCLUDED.slices
""",
    # SQLite stores datetimes as 'YYYY-MM-DD HH:MM:SS[.ffffff]' text (UTC): the
    # minute is that text with the seconds zeroed, as Django would write it.
    "sqlite": """
INSERT INTO {bucket} (service_id, minute, total, slices)
SELECT service_id, minute, sum(n), json_group_array(json_array(region, country, code, feature_id, n))
FROM (
    SELECT service_id, strftime('%%Y-%%m-%%d %%H:%%M:00', observed_at) AS minute, region, country, code,
           feature_id, count(*) AS n
    FROM {report}
    WHERE observed_at >= %s AND observed_at < %s {services}
    GROUP BY 1, 2, 3, 4, 5, 6
) AS per_slice
WHERE true
GROUP BY service_id, minute
ORDER BY service_id, minute
ON CONFLICT (service_id, minute) DO UPDATE SET total = excluded.total, slices = excluded.slices
""",
}


def _bucket(*, start: datetime, end: datetime, service_ids: set[int] | None) -> int:
    """Aggregate [start, end) and upsert the buckets; returns the number of service-minutes written."""
    ops = connection.ops
    params: list = [ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)]
    services = ""
    if service_ids is not None:
        ids = sorted(service_ids)
        services, params = f"AND service_id IN ({', '.join(['%s'] * len(ids))})", [*params, *ids]
    sql = _UPSERT_SQL[connection.vendor].format(
        bucket=Bucket._meta.db_table, report=Report._meta.db_table, services=services
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
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
    # Readers count a report still in the intake log from the log: their raw tail must start
    # at or before its minute, or a minute bucketed without it would hide it once stored.
    waiting = intake_log.oldest_observed_at()
    complete = closed if waiting is None else min(closed, floor_minute(waiting))
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
        scanned_until=now, bucketed_until=complete, updated_at=timezone.now()
    )
    log.info("bucketing: %d service-minutes written up to %s", written, closed.isoformat())
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


def rebucket_service(*, service_id: int) -> int:
    """Recompute every bucket of one service from its reports (after reports were deleted)."""
    with transaction.atomic():
        Bucket.objects.filter(service_id=service_id).delete()
        first = Report.objects.filter(service_id=service_id).order_by("observed_at").first()
        if first is None:
            return 0
        return _bucket(start=floor_minute(first.observed_at), end=timezone.now() + MINUTE, service_ids={service_id})


def rebucket_span(*, service_id: int, first: datetime, last: datetime) -> int:
    """Recompute one service's buckets over [first, last]'s minutes (after some of its reports were deleted)."""
    start, end = floor_minute(first), floor_minute(last) + MINUTE
    with transaction.atomic():
        # A minute whose reports are all gone has no row to upsert: delete, then count again.
        Bucket.objects.filter(service_id=service_id, minute__gte=start, minute__lt=end).delete()
        return _bucket(start=start, end=end, service_ids={service_id})
