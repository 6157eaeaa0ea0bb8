"""Pure helpers for bucketing: which minute ranges need recomputing."""

from collections.abc import Iterable
from datetime import datetime, timedelta

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
