"""Clock edge cases: the Europe/Paris DST switches, midnight UTC, and the bulk observed_at limits.

Bucketing and every count are in UTC; local time only ever appears in an
`observed_at` offset, which is converted on the way in.
"""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum

from analytics.bucketing import bucket_new_reports
from analytics.models import Bucket
from analytics.selectors import timeseries
from reports.models import Report
from tests.support.reports import add_reports

PARIS = ZoneInfo("Europe/Paris")
BULK = "/api/v1/reports/bulk/"


@contextmanager
def frozen(at: datetime):
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield


def _add(service, at: datetime, n: int = 1, received: datetime | None = None) -> None:
    add_reports(service, at=at, n=n, received=received, source="api")


def _buckets(service) -> dict[datetime, int]:
    rows = Bucket.objects.filter(service=service).values("minute").annotate(n=Sum("total")).order_by("minute")
    return {row["minute"]: row["n"] for row in rows}


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_spring_switch_loses_no_minute(tesla):
    # 31 Mar 2024, 01:00 UTC: Paris jumps from 02:00 to 03:00 local.
    minutes = [_utc(2024, 3, 31, 0, 59), _utc(2024, 3, 31, 1, 0), _utc(2024, 3, 31, 1, 1)]
    for i, minute in enumerate(minutes, start=1):
        _add(tesla, minute + timedelta(seconds=30), n=i)
    assert [m.astimezone(PARIS).strftime("%H:%M") for m in minutes] == [
        "01:59",
        "03:00",
        "03:01",
    ]  # 02:xx never happens
    bucket_new_reports(now=_utc(2024, 3, 31, 1, 5))
    assert _buckets(tesla) == {minutes[0]: 1, minutes[1]: 2, minutes[2]: 3}


def test_the_autumn_switch_keeps_the_repeated_local_hour_apart(tesla, partner):
    # 27 Oct 2024: 02:30 Paris happens twice, at 00:30 UTC (+02:00) and 01:30 UTC (+01:00).
    now = _utc(2024, 10, 27, 2, 0)
    items = [
        {"service": "tesla", "feature": "climate", "code": "503", "country": "FR", "observed_at": at}
        for at in ["2024-10-27T02:30:00+02:00", "2024-10-27T02:30:00+01:00", "2024-10-27T02:30:00+01:00"]
    ]
    with frozen(now):
        assert partner.post(BULK, {"reports": items}, format="json").status_code == 201
        bucket_new_reports(now=now)
        series = timeseries(service_id=tesla.id, start=_utc(2024, 10, 26, 22), end=_utc(2024, 10, 27, 2), interval="1h")
    assert _buckets(tesla) == {_utc(2024, 10, 27, 0, 30): 1, _utc(2024, 10, 27, 1, 30): 2}
    # Four UTC hours, each exactly once: none doubled or dropped by the local repeat.
    assert list(series.index) == [_utc(2024, 10, 26, 22) + timedelta(hours=h) for h in range(4)]
    assert list(series.to_numpy()) == [0, 0, 1, 2]


def test_the_spring_day_has_24_hourly_buckets_through_the_api(tesla, api):
    for hour in range(24):
        _add(tesla, _utc(2024, 3, 31, hour, 10), n=hour + 1)
    bucket_new_reports(now=_utc(2024, 4, 1, 0, 5))
    with frozen(_utc(2024, 4, 1, 0, 5)):
        response = api.get(
            "/api/v1/services/tesla/timeseries/",
            {"interval": "1h", "start": "2024-03-31T00:00:00Z", "end": "2024-04-01T00:00:00Z"},
        )
    assert response.status_code == 200, response.content
    buckets = response.json()["buckets"]
    assert [b["t"] for b in buckets] == [f"2024-03-31T{h:02d}:00:00Z" for h in range(24)]
    assert [b["count"] for b in buckets] == list(range(1, 25))


def test_reports_either_side_of_midnight_utc_land_in_their_own_day(tesla):
    before, after = _utc(2024, 6, 30, 23, 59, 59, 999_999), _utc(2024, 7, 1, 0, 0, 0)
    _add(tesla, before, n=2)
    _add(tesla, after, n=3)
    # 30 s after midnight: 23:59 is closed and bucketed, 00:00 is still open.
    bucket_new_reports(now=_utc(2024, 7, 1, 0, 0, 30))
    assert _buckets(tesla) == {_utc(2024, 6, 30, 23, 59): 2}
    open_minute = timeseries(
        service_id=tesla.id, start=before - timedelta(minutes=1), end=after + timedelta(minutes=1), interval="1m"
    )
    assert int(open_minute.sum()) == 5  # the open minute is counted from raw reports
    bucket_new_reports(now=_utc(2024, 7, 1, 0, 1, 5))
    assert _buckets(tesla) == {_utc(2024, 6, 30, 23, 59): 2, _utc(2024, 7, 1, 0, 0): 3}


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (-timedelta(days=7), True),
        (-timedelta(days=7, microseconds=1), False),
        (timedelta(minutes=1), True),
        (timedelta(minutes=1, microseconds=1), False),
    ],
    ids=["exactly-7-days-old", "just-older", "exactly-1-minute-ahead", "just-further-ahead"],
)
def test_bulk_observed_at_limits_are_inclusive(partner, tesla, offset, accepted):
    now = _utc(2024, 3, 31, 0, 59, 30)
    item = {
        "service": "tesla",
        "feature": "climate",
        "code": "503",
        "country": "FR",
        "observed_at": (now + offset).isoformat(),
    }
    with frozen(now):
        response = partner.post(BULK, {"reports": [item]}, format="json")
    assert response.status_code == (201 if accepted else 400), response.content
    assert Report.objects.count() == int(accepted)


def test_reports_at_the_limits_are_bucketed_once_their_minute_closes(partner, tesla):
    now = _utc(2024, 3, 31, 0, 59, 30)
    items = [
        {"service": "tesla", "feature": "climate", "code": "503", "country": "FR", "observed_at": at.isoformat()}
        for at in (now - timedelta(days=7), now + timedelta(minutes=1))
    ]
    # Runs every minute from a minute before the intake: the old minute was already
    # bucketed (empty) and must be recomputed; the future one waits until it closes.
    bucket_new_reports(now=now - timedelta(minutes=1))
    with frozen(now):
        assert partner.post(BULK, {"reports": items}, format="json").status_code == 201
    bucket_new_reports(now=now)
    old_minute, ahead_minute = _utc(2024, 3, 24, 0, 59), _utc(2024, 3, 31, 1, 0)
    assert _buckets(tesla) == {old_minute: 1}
    bucket_new_reports(now=now + timedelta(minutes=1))  # 01:00:30: minute 01:00 still open
    assert _buckets(tesla) == {old_minute: 1}
    for k in range(2, 5):  # 01:01:30 onwards: closed, counted once, then never again
        bucket_new_reports(now=now + timedelta(minutes=k))
        assert _buckets(tesla) == {old_minute: 1, ahead_minute: 1}
