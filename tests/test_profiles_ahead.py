"""No blind tick: profiles are fitted within a budget per minute and ahead of the tick, stand-ins meanwhile."""

import logging
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from django.core.cache import cache

from analytics import fitting, profiles, snapshots, tasks, tick
from analytics.core.detection import TREMOR_CONFIG
from analytics.models import ProfileSnapshot, ServiceStatus
from tests.support.reports import quiet_fleet

END = pd.Timestamp("2024-03-04 15:00Z")


@pytest.fixture
def fits(monkeypatch):
    """The (service, refit point) pairs fit_service was asked for (it still fits)."""
    asked = []
    real = profiles.fit_service

    def fit_service(**kwargs) -> profiles.GridProfiles:
        asked.append((kwargs["service_id"], kwargs["at"]))
        return real(**kwargs)

    monkeypatch.setattr(profiles, "fit_service", fit_service)
    return asked


@pytest.fixture
def version_reset():
    snapshots.profile_version.cache_clear()
    yield
    snapshots.profile_version.cache_clear()


@pytest.fixture
def fleet(db):
    """Four services with two days of reports before END."""
    return quiet_fleet(4, end=END, every="6min")


def _tick(ids: list[int], minute: int) -> int:
    return tick.run_tick(service_ids=ids, now=END + pd.Timedelta(minutes=minute, seconds=5))


def _evaluated(ids: list[int], minute: int) -> bool:
    """Every service has evaluated the minute before the tick at END + `minute`."""
    target = END + pd.Timedelta(minutes=minute - 1)
    return ServiceStatus.objects.filter(service_id__in=ids, evaluated_at=target).count() == len(ids)


def _current(ids: list[int], minute: int) -> set:
    """The window points of the tick at END + `minute` stored for this version."""
    version = snapshots.profile_version(TREMOR_CONFIG)
    end = END + pd.Timedelta(minutes=minute)
    wanted = {p for s in ids for p in profiles.window_points(service_id=s, end=end)}
    stored = {(s, at) for s, at, v in snapshots.snapshot_index(service_ids=ids) if v == version}
    return wanted - stored


def test_after_a_version_change_the_tick_refits_at_most_its_budget_and_scores_every_service(
    fleet, fits, settings, monkeypatch, version_reset
):
    assert _tick(fleet, 0) and _evaluated(fleet, 0)
    assert not _current(fleet, 0)
    first_fits = len(fits)
    assert first_fits >= len(fleet)  # within the default budget: all fitted, as before

    monkeypatch.setattr(snapshots, "FORMAT", snapshots.FORMAT + 1)  # a deploy that changes the version
    snapshots.profile_version.cache_clear()
    cache.clear()
    settings.TREMOR_TICK_FITS = 1
    assert _tick(fleet, 1) == len(fleet)
    assert len(fits) == first_fits + 1
    assert _evaluated(fleet, 1)  # every service scored: three with their previous profiles

    # The following ticks catch up, one fit each, every service scored at every minute.
    minute = 1
    while _current(fleet, minute):
        minute += 1
        assert minute < 20
        assert _tick(fleet, minute) == len(fleet) and _evaluated(fleet, minute)
    assert len(fits) - first_fits <= minute
    assert len(fits[first_fits:]) == len(set(fits[first_fits:]))  # no point fitted twice


def test_a_stand_in_scores_like_the_profiles_it_stands_for(fleet, settings, monkeypatch, version_reset):
    rows = tick.slice_rows(service_ids=fleet[:1], start=END - pd.Timedelta(minutes=profiles.WINDOW), end=END)
    fresh = tick.score_window(service_id=fleet[0], rows=rows, end=END)
    monkeypatch.setattr(snapshots, "FORMAT", snapshots.FORMAT + 1)
    snapshots.profile_version.cache_clear()
    cache.clear()
    settings.TREMOR_TICK_FITS = 0
    points = profiles.window_points(service_id=fleet[0], end=END)
    got = fitting.tick_profiles(points=points, end=END)
    assert got.stale == {fleet[0]} and not got.waiting and got.fitted == 0
    stale = tick.score_window(service_id=fleet[0], rows=rows, end=END, profiles=got.found)
    # The data did not change, so the old version's profiles give the same scores.
    np.testing.assert_array_equal(stale.level, fresh.level)
    np.testing.assert_array_equal(stale.expected, fresh.expected)


def test_a_service_without_any_profiles_waits_then_its_minutes_are_caught_up(fleet, fits, settings, caplog):
    settings.TREMOR_TICK_FITS = 0
    ServiceStatus.objects.bulk_create(
        [ServiceStatus(service_id=s, evaluated_at=END - pd.Timedelta(minutes=2)) for s in fleet]
    )
    with caplog.at_level(logging.WARNING, logger="analytics.fitting"):
        assert _tick(fleet, 0) == 0
        assert _tick(fleet, 3) == 0
    assert "4 services have no profiles yet and are not scored" in caplog.text
    assert not fits

    assert fitting.fit_ahead(now=END + pd.Timedelta(minutes=3, seconds=10), seconds=60) == len(_points(fleet, 3))
    assert _tick(fleet, 4) == 5 * len(fleet)  # minutes END-1 .. END+3, none lost
    assert _evaluated(fleet, 4)


def _points(ids: list[int], minute: int) -> list:
    end = END + pd.Timedelta(minutes=minute)
    return [p for s in ids for p in profiles.window_points(service_id=s, end=end)]


def test_fit_ahead_fits_each_missing_point_once_when_run_twice(fleet, fits, monkeypatch):
    monkeypatch.setattr(tasks.pd.Timestamp, "now", classmethod(lambda cls, tz=None: END + pd.Timedelta(seconds=3)))
    assert tasks.fit_profiles_ahead() == len(_points(fleet, 0))
    assert tasks.fit_profiles_ahead() == 0
    assert sorted(fits) == sorted(_points(fleet, 0))
    assert not _current(fleet, 0)


def test_fit_ahead_fits_services_without_profiles_first(fleet, fits):
    fitting.fit_ahead(now=END, seconds=60, service_ids=fleet[2:])
    fits.clear()
    cache.clear()
    ProfileSnapshot.objects.filter(service_id=fleet[3]).update(at=END - pd.Timedelta(days=1))  # an old point only
    fitting.fit_ahead(now=END, seconds=0, service_ids=fleet)
    assert [s for s, _ in fits] == [fleet[0]]  # out of time after the first, which had nothing


def test_the_tick_does_not_fit_a_point_another_worker_is_fitting(fleet, fits, settings, monkeypatch, version_reset):
    _tick(fleet[:1], 0)
    monkeypatch.setattr(snapshots, "FORMAT", snapshots.FORMAT + 1)
    snapshots.profile_version.cache_clear()
    cache.clear()
    fits.clear()
    version = snapshots.profile_version(TREMOR_CONFIG)
    for point in _points(fleet[:1], 1):
        assert fitting._claim(point, version=version)  # noqa: PLC2701 - as fit_ahead on another worker
    assert _tick(fleet[:1], 1) == 1
    assert not fits


def test_profiles_of_code_that_scores_differently_are_not_used(fleet, settings, monkeypatch, version_reset):
    _tick(fleet[:1], 0)
    other = replace(TREMOR_CONFIG, windows_minutes=(*TREMOR_CONFIG.windows_minutes, 120))
    settings.TREMOR_TICK_FITS = 0
    cache.clear()
    got = fitting.tick_profiles(points=profiles.window_points(service_id=fleet[0], end=END), end=END, config=other)
    assert got.waiting == {fleet[0]} and not got.stale
