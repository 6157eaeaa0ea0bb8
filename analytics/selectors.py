"""Reads of report counts: buckets for settled minutes, raw reports for the newest.

Buckets are complete only up to `BucketingState.bucketed_until`; after it,
counts come straight from the raw table so that a report shows up at once.
"""

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
from django.db import connection
from django.db.models import BigIntegerField, Count, Func, OuterRef, Subquery, Sum
from django.db.models.functions import Substr, TruncMinute

from reports import intake_log
from reports.models import Report, Service

from .core.series import INTERVALS, zero_filled
from .models import Bucket, BucketingState, BucketSlice, Incident

DIMENSIONS = {"region": "region", "country": "country", "code": "code", "feature": "feature__slug"}


def bucketed_until() -> datetime | None:
    return BucketingState.objects.filter(id=1).values_list("bucketed_until", flat=True).first()


def report_counts(
    *,
    start: datetime,
    end: datetime,
    group_by: Sequence[str],
    service_id: int | None = None,
    filters: dict[str, str] | None = None,
    service_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Report counts over [start, end) grouped by fields of Bucket/Report.

    `group_by` names fields both models share: service_id, minute, region,
    country, code, feature__slug. `filters` takes the API dimension names.
    """
    lookups = {DIMENSIONS[name]: value for name, value in (filters or {}).items() if value}
    if service_id is not None:
        lookups["service_id"] = service_id
    if service_ids is not None:
        lookups["service_id__in"] = list(service_ids)
    split = min(max(bucketed_until() or start, start), end)
    keys = list(group_by)

    if set(keys) <= {"service_id", "minute"} and set(lookups) <= {"service_id", "service_id__in"}:
        # Totals need no slice: the minute row's own total (no unpacking).
        buckets, counted = Bucket.objects.filter(minute__gte=start, minute__lt=split, **lookups), "total"
    else:
        buckets, counted = BucketSlice.objects.filter(minute__gte=start, minute__lt=split, **lookups), "count"
    raw = Report.objects.filter(observed_at__gte=split, observed_at__lt=end, **lookups)
    if "minute" in keys:
        raw = raw.annotate(minute=TruncMinute("observed_at"))

    def count_db() -> list[pd.DataFrame]:
        if not keys:
            # values() with no field would group by every column: one row per bucket.
            total = (buckets.aggregate(n=Sum(counted))["n"] or 0) + raw.count()
            return [pd.DataFrame({"n": [int(total)]})]
        return [
            pd.DataFrame.from_records(
                list(buckets.values(*keys).annotate(n=Sum(counted)).order_by()), columns=[*keys, "n"]
            ),
            pd.DataFrame.from_records(
                list(raw.values(*keys).annotate(n=Count("id")).order_by()), columns=[*keys, "n"]
            ),
        ]

    # Reports acknowledged from the intake log and not stored yet count too, each once.
    frames, pending = intake_log.count_once(intake_log.unflushed(), count_db, flushed_since)
    logged = _log_frame(pending, start=start, end=end, lookups=lookups, keys=keys)
    if not keys:
        return pd.DataFrame({"n": [int(frames[0]["n"].iloc[0]) + len(logged)]})
    if len(logged):
        frames.append(logged.groupby(keys, as_index=False).size().rename(columns={"size": "n"}))
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=[*keys, "n"])
    both = pd.concat(frames, ignore_index=True)
    return both.groupby(keys, as_index=False)["n"].sum()


def flushed_since(first: int) -> set[int]:
    """Intake log entries (numbers >= first) already stored by the flusher."""
    return set(Report.objects.filter(log_entry__gte=first).values_list("log_entry", flat=True))


_LOG_FIELDS = {"service_id": "service_id", "region": "region", "country": "country", "code": "code",
               "feature__slug": "feature_slug"}  # fmt: skip


def _log_frame(entries: list, *, start: datetime, end: datetime, lookups: dict, keys: list[str]) -> pd.DataFrame:
    """The log's entries within [start, end) and the lookups, one row each, with the `keys` columns."""
    wanted = []
    ids = set(lookups["service_id__in"]) if "service_id__in" in lookups else None
    for e in entries:
        if not start <= e.observed_at < end or (ids is not None and e.service_id not in ids):
            continue
        if any(getattr(e, _LOG_FIELDS[k]) != v for k, v in lookups.items() if k in _LOG_FIELDS):
            continue
        row = {k: getattr(e, _LOG_FIELDS[k]) for k in keys if k in _LOG_FIELDS}
        if "minute" in keys:
            row["minute"] = e.observed_at.replace(second=0, microsecond=0)
        wanted.append(row)
    return pd.DataFrame(wanted, columns=keys)


def total_count(*, start: datetime, end: datetime, service_id: int | None = None) -> int:
    frame = report_counts(start=start, end=end, group_by=[], service_id=service_id)
    return int(frame["n"].sum()) if not frame.empty else 0


def counts_by_service(*, start: datetime, end: datetime) -> dict[int, int]:
    frame = report_counts(start=start, end=end, group_by=["service_id"])
    return {int(s): int(n) for s, n in zip(frame["service_id"], frame["n"], strict=True)}


def timeseries(
    *, service_id: int, start: datetime, end: datetime, interval: str, filters: dict[str, str] | None = None
) -> pd.Series:
    frame = report_counts(start=start, end=end, group_by=["minute"], service_id=service_id, filters=filters)
    counts = pd.Series(
        frame["n"].to_numpy(dtype="int64"), index=pd.DatetimeIndex(pd.to_datetime(frame["minute"], utc=True))
    )
    return zero_filled(counts, start=start, end=end, interval=interval)


class EpochBucket(Func):
    """Integer bucket number of a datetime: seconds since the epoch // `seconds`, computed by the database.

    Grouping on it returns one small integer per bucket instead of a datetime per minute, which
    Django would otherwise convert row by row (most of the time of a 30-day series).
    """

    output_field = BigIntegerField()

    def __init__(self, expression, *, seconds: int) -> None:
        super().__init__(expression)
        self.seconds = int(seconds)

    def as_sqlite(self, compiler, connection, **extra):
        # '%%%%s': one '%' survives the template, the other the cursor's parameter style.
        template = f"(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) / {self.seconds})"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        template = f"(FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / {self.seconds}))::bigint"
        return self.as_sql(compiler, connection, template=template, **extra)


def rolled_timeseries(*, service_id: int, start: datetime, end: datetime, interval: str) -> pd.Series:
    """Like `timeseries`, with the buckets summed per interval by the database (charts over days)."""
    return rolled_timeseries_by_service(service_ids=[service_id], start=start, end=end, interval=interval)[service_id]


def rolled_timeseries_by_service(
    *, service_ids: Sequence[int], start: datetime, end: datetime, interval: str
) -> dict[int, pd.Series]:
    """`rolled_timeseries` of several services in a constant number of queries (the home page's sparklines)."""
    seconds = int(pd.Timedelta(INTERVALS[interval]).total_seconds())
    split = min(max(bucketed_until() or start, start), end)
    if connection.vendor == "sqlite" and seconds == 3600:
        # SQLite stores "YYYY-MM-DD HH:MM:SS" text: its first 13 characters are the hour, twice
        # as fast as strftime('%s') per row over 30 days of buckets.
        slot, to_time = Substr("minute", 1, 13), lambda keys: pd.to_datetime(keys, utc=True)
    else:
        slot, to_time = (
            EpochBucket("minute", seconds=seconds),
            lambda keys: pd.to_datetime([k * seconds for k in keys], unit="s", utc=True),
        )
    ids = list(service_ids)
    rolled = (
        Bucket.objects.filter(service_id__in=ids, minute__gte=start, minute__lt=split)
        .annotate(slot=slot)
        .values_list("service_id", "slot")
        .annotate(n=Sum("total"))
        .order_by()
    )
    rows: dict[int, list] = {service_id: [] for service_id in ids}
    for service_id, key, n in rolled:
        rows[service_id].append((key, n))
    # Minutes not bucketed yet (the last minute or two) come from the raw table, as everywhere.
    tail = report_counts(start=split, end=end, group_by=["service_id", "minute"], service_ids=ids)
    out = {}
    for service_id, slots in rows.items():
        counts = pd.Series(
            [n for _, n in slots], index=pd.DatetimeIndex(to_time([key for key, _ in slots])), dtype="int64"
        )
        mine = tail[tail["service_id"] == service_id] if not tail.empty else tail
        if not mine.empty:
            extra = pd.Series(
                mine["n"].to_numpy(dtype="int64"), index=pd.DatetimeIndex(pd.to_datetime(mine["minute"], utc=True))
            )
            counts = pd.concat([counts, extra]) if not counts.empty else extra
        out[service_id] = zero_filled(counts, start=start, end=end, interval=interval)
    return out


def breakdown(*, service_id: int, start: datetime, end: datetime, dimension: str) -> list[dict]:
    """Counts and shares (percent) per value of one dimension, largest first."""
    field = DIMENSIONS[dimension]
    frame = report_counts(start=start, end=end, group_by=[field], service_id=service_id)
    total = int(frame["n"].sum()) if not frame.empty else 0
    frame = frame.sort_values(["n", field], ascending=[False, True]) if total else frame
    return [
        {"value": str(value), "count": int(n), "share": round(100.0 * n / total, 1)}
        for value, n in zip(frame[field], frame["n"], strict=True)
    ]


def slice_rows(*, service_ids: Sequence[int], start: datetime, end: datetime) -> pd.DataFrame:
    """Counts per service, minute and slice over [start, end): the detector's input.

    Columns service_id, minute (UTC), region, country, code, feature, count.
    """
    fields = ["service_id", "minute", "region", "country", "code", "feature__slug"]
    frame = report_counts(start=start, end=end, group_by=fields, service_ids=service_ids)
    frame = frame.rename(columns={"feature__slug": "feature", "n": "count"})
    if len(frame):
        frame["minute"] = pd.to_datetime(frame["minute"], utc=True)
    return frame.reset_index(drop=True)


def first_report_at(*, service_id: int) -> datetime | None:
    """When the service's first report was observed (the start of its history)."""
    first = Bucket.objects.filter(service_id=service_id).order_by("minute").values_list("minute", flat=True).first()
    raw = Report.objects.filter(service_id=service_id).order_by("observed_at").values_list("observed_at", flat=True)
    candidates = [t for t in (first, raw.first()) if t is not None]
    return min(candidates) if candidates else None


def latest_incidents(*, service_ids: Sequence[int]) -> dict[int, Incident]:
    """Each service's most recent incident (by onset), for those that have one: one query for them all."""
    latest = Incident.objects.filter(service_id=OuterRef("pk")).order_by("-started_at", "-pk").values("pk")[:1]
    ids = Service.objects.filter(id__in=list(service_ids)).annotate(latest=Subquery(latest)).values("latest")
    return {incident.service_id: incident for incident in Incident.objects.filter(pk__in=ids)}
