"""Reads of report counts: buckets for settled minutes, raw reports for the newest.

Buckets are complete only up to `BucketingState.bucketed_until`; after it,
counts come straight from the raw table so that a report shows up at once.
"""

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
from django.db.models import Count, Sum
from django.db.models.functions import TruncMinute

from reports.models import Report

from .models import Bucket, BucketingState
from .series import zero_filled

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
) -> pd.DataFrame:
    """Report counts over [start, end) grouped by fields of Bucket/Report.

    `group_by` names fields both models share: service_id, minute, region,
    country, code, feature__slug. `filters` takes the API dimension names.
    """
    lookups = {DIMENSIONS[name]: value for name, value in (filters or {}).items() if value}
    if service_id is not None:
        lookups["service_id"] = service_id
    split = min(max(bucketed_until() or start, start), end)
    keys = list(group_by)

    buckets = Bucket.objects.filter(minute__gte=start, minute__lt=split, **lookups)
    raw = Report.objects.filter(observed_at__gte=split, observed_at__lt=end, **lookups)
    if "minute" in keys:
        raw = raw.annotate(minute=TruncMinute("observed_at"))
    frames = [
        pd.DataFrame.from_records(
            list(buckets.values(*keys).annotate(n=Sum("count")).order_by()), columns=[*keys, "n"]
        ),
        pd.DataFrame.from_records(list(raw.values(*keys).annotate(n=Count("id")).order_by()), columns=[*keys, "n"]),
    ]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=[*keys, "n"])
    both = pd.concat(frames, ignore_index=True)
    if not keys:
        return pd.DataFrame({"n": [int(both["n"].sum())]})
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
