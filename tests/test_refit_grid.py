"""Each service refits on its own grid: offset 0 is the clock's 00/06/12/18 UTC, consecutive ids spread out."""

from datetime import timedelta

import pandas as pd
import pytest
from django.utils import timezone

from analytics import band, profiles, tick
from analytics.band import baseline_band
from analytics.core.detection import TREMOR_CONFIG
from analytics.core.refit import grid_point, refit_offset
from analytics.replay import frame_start
from reports.models import Service

MINUTES = pd.date_range("2024-03-04 00:00", "2024-03-06 00:00", freq="7min", tz="UTC")


def test_offset_zero_is_the_clock_grid_of_before():
    assert (grid_point(MINUTES, TREMOR_CONFIG, 0) == MINUTES.floor("360min")).all()
    assert grid_point(pd.Timestamp("2024-03-04 17:59", tz="UTC"), TREMOR_CONFIG) == pd.Timestamp(
        "2024-03-04 12:00", tz="UTC"
    )
    # The replay's frame start is still day-aligned.
    first = pd.Timestamp("2024-02-20 15:42", tz="UTC")
    for moment in MINUTES[::50]:
        start = moment.floor("1D") - pd.Timedelta(days=TREMOR_CONFIG.history_days)
        assert frame_start(moment, TREMOR_CONFIG, first_data=None) == start
        assert frame_start(moment, TREMOR_CONFIG, first_data=first) == max(start, first.floor("1D"))


def test_consecutive_services_take_every_minute_of_the_refit_period_once():
    for first_id in (1, 1234):
        offsets = [refit_offset(i, TREMOR_CONFIG) for i in range(first_id, first_id + 360)]
        assert sorted(offsets) == list(range(360))
    assert refit_offset(200, TREMOR_CONFIG) == 200 and refit_offset(360, TREMOR_CONFIG) == 0


@pytest.mark.parametrize("offset", [1, 97, 200, 359])
def test_a_grid_point_is_the_last_refit_at_or_before_the_minute(offset):
    points = grid_point(MINUTES, TREMOR_CONFIG, offset)
    since = (MINUTES - points) / pd.Timedelta(minutes=1)
    assert ((since >= 0) & (since < 360)).all()
    assert ((points - pd.Timestamp("2024-03-04", tz="UTC")) / pd.Timedelta(minutes=1) % 360 == offset).all()


@pytest.mark.parametrize("offset", [0, 1, 97, 200, 359])
def test_a_frame_starts_on_the_services_grid_and_before_its_first_report(offset):
    for first in pd.date_range("2024-02-20 00:00", "2024-02-21 00:00", freq="37min", tz="UTC"):
        start = frame_start(pd.Timestamp("2024-03-04 12:00", tz="UTC"), TREMOR_CONFIG, first_data=first, offset=offset)
        assert grid_point(start, TREMOR_CONFIG, offset) == start  # detect_frame's grid is the tick's
        assert first.floor("1D") - pd.Timedelta(minutes=360) < start <= first


@pytest.fixture
def staggered(db):
    return Service.objects.create(id=200, slug="staggered", name="Staggered")


def test_the_tick_fits_profiles_at_the_services_own_refit_points(staggered, monkeypatch):
    fitted = []

    def fit_service(*, service_id: int, at: pd.Timestamp, config) -> profiles.GridProfiles:
        fitted.append(at)
        return profiles.GridProfiles(at=at, profiles={})

    monkeypatch.setattr(profiles, "fit_service", fit_service)
    # The window of a tick at 15:50 reaches back to 14:20: the 09:20 and 15:20 profiles.
    tick.run_tick(service_ids=[staggered.id], now=pd.Timestamp("2024-03-04 15:50:05", tz="UTC"))
    assert fitted == [pd.Timestamp("2024-03-04 09:20", tz="UTC"), pd.Timestamp("2024-03-04 15:20", tz="UTC")]


def test_the_chart_band_reads_the_profiles_of_the_services_grid(staggered, monkeypatch):
    asked = []

    def cached_profiles(*, service_id: int, at: pd.Timestamp) -> profiles.GridProfiles:
        asked.append(at)
        return profiles.GridProfiles(at=at, profiles={})

    monkeypatch.setattr(band, "cached_profiles", cached_profiles)
    now = timezone.now()
    baseline_band(service_id=staggered.id, start=now - timedelta(hours=24), end=now, interval="15m")
    assert len(asked) >= 4
    assert all(grid_point(at, TREMOR_CONFIG, 200) == at for at in asked)
