"""Reads of report counts: buckets for settled minutes, raw reports for the newest.

Buckets are complete only up to `BucketingState.bucketed_until`; after it,
counts come straight from the raw table so that a report shows up at once.
"""

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import BigIntegerField, Count, Func, Sum
from django.db.models.functions import Substr, TruncMinute

from reports.models import Report

from .models import Bucket, BucketingState, BucketSlice, Incident, Level, ServiceStatus
from .series import INTERVALS, zero_filled

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
    if not keys:
        # values() with no field would group by every column: one row per bucket.
        total = (buckets.aggregate(n=Sum(counted))["n"] or 0) + raw.count()
        return pd.DataFrame({"n": [int(total)]})
    if "minute" in keys:
        raw = raw.annotate(minute=TruncMinute("observed_at"))
    frames = [
        pd.DataFrame.from_records(
            list(buckets.values(*keys).annotate(n=Sum(counted)).order_by()), columns=[*keys, "n"]
        ),
        pd.DataFrame.from_records(list(raw.values(*keys).annotate(n=Count("id")).order_by()), columns=[*keys, "n"]),
    ]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=[*keys, "n"])
    both = pd.concat(frames, ignore_index=True)
    return both.groupby(keys, as_index=False)["n"].sum()


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
    rolled = (
        Bucket.objects.filter(service_id=service_id, minute__gte=start, minute__lt=split)
        .annotate(slot=slot)
        .values_list("slot")
        .annotate(n=Sum("total"))
        .order_by()
    )
    slots = list(rolled)
    counts = pd.Series([n for _, n in slots], index=pd.DatetimeIndex(to_time([key for key, _ in slots])), dtype="int64")
    # Minutes not bucketed yet (the last minute or two) come from the raw table, as everywhere.
    tail = report_counts(start=split, end=end, group_by=["minute"], service_id=service_id)
    if not tail.empty:
        extra = pd.Series(
            tail["n"].to_numpy(dtype="int64"), index=pd.DatetimeIndex(pd.to_datetime(tail["minute"], utc=True))
        )
        counts = pd.concat([counts, extra]) if not counts.empty else extra
    return zero_filled(counts, start=start, end=end, interval=interval)


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


def current_status(*, service_id: int):
    """(level name, ongoing Incident or None) as the last detection tick left them."""
    status = ServiceStatus.objects.filter(service_id=service_id).first()
    level = Level(status.level).label if status else Level.NORMAL.label
    incident = (
        Incident.objects.select_related("service").filter(service_id=service_id, status=Incident.Status.ONGOING).first()
    )
    return level, incident


def baseline_band(*, service_id: int, start: datetime, end: datetime, interval: str) -> pd.DataFrame:
    """Typical reports per bucket for that time of day and weekday, and the top of the normal band.

    Indexed like `timeseries`. Up to two days back each minute gets the
    profile the detector had in force then (fitted before it, so an outage
    does not raise its own band); longer ranges use the latest profile, as
    Downdetector's "typical levels" do.
    """
    from scipy import stats

    from .baseline import time_slots
    from .detection import TREMOR_CONFIG
    from .refit import grid_point, refit_offset
    from .tick import cached_profiles

    freq = INTERVALS[interval]
    index = pd.date_range(pd.Timestamp(start).floor(freq), pd.Timestamp(end), freq=freq, inclusive="left")
    if not len(index):
        return pd.DataFrame({"expected": [], "upper": []}, index=index)
    minutes = pd.date_range(index[0], index[-1] + pd.Timedelta(freq), freq="1min", inclusive="left")
    tod, dow = time_slots(minutes, TREMOR_CONFIG.slot_minutes)
    # The service's own refit grid, so the band shows the profiles the tick scored with.
    offset = refit_offset(service_id, TREMOR_CONFIG)
    latest = grid_point(min(pd.Timestamp(end), pd.Timestamp.now(tz="UTC")).floor("1min"), TREMOR_CONFIG, offset)
    per_grid = pd.Timestamp(end) - pd.Timestamp(start) <= pd.Timedelta(days=2)
    grids = grid_point(minutes, TREMOR_CONFIG, offset) if per_grid else pd.DatetimeIndex([latest] * len(minutes))
    expected = np.full(len(minutes), np.nan)
    alpha = np.full(len(minutes), np.nan)
    for at in grids.unique():
        profile = cached_profiles(service_id=service_id, at=min(at, latest)).profiles.get("total")
        if profile is None or profile[1]:  # no history, or still warming up: no band there
            continue
        rows = grids == at
        expected[rows] = profile[0].expected_for_slots(tod[rows], dow[rows], 1.0)
        # Sums over 15 minutes or more: the 30-minute window's dispersion describes them best.
        alpha[rows] = profile[0].alpha[-1]
    frame = pd.DataFrame({"expected": expected, "alpha": alpha}, index=minutes)
    binned = frame.groupby(frame.index.floor(freq)).agg(expected=("expected", "sum"), alpha=("alpha", "mean"))
    binned.loc[frame["expected"].isna().groupby(frame.index.floor(freq)).any(), "expected"] = np.nan
    binned = binned.reindex(index)
    r = 1.0 / np.maximum(binned["alpha"].to_numpy(), 1e-6)
    mean = binned["expected"].to_numpy()
    upper = np.where(
        np.isnan(mean), np.nan, stats.nbinom.ppf(TREMOR_CONFIG.upper_quantile, r, r / (r + np.nan_to_num(mean) + 1e-9))
    )
    return pd.DataFrame({"expected": mean, "upper": upper}, index=index)
