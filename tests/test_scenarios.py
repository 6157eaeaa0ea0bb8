"""Scenario generator: determinism, shape of the background, and the two
reference outages as described in the press (plain pytest, no database)."""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
import pytest

from demo import scenarios as sc

UTC = "UTC"


def ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz=UTC)


def between(df: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    return df[(df["observed_at"] >= ts(start)) & (df["observed_at"] < ts(end))]


@pytest.fixture(scope="module")
def two_weeks() -> pd.DataFrame:
    # Mon 2023-01-30 .. Mon 2023-02-13: exactly two of every weekday.
    return sc.background(service="tesla", start="2023-01-30", end="2023-02-13", seed=7)


@pytest.fixture(scope="module")
def feb14() -> pd.DataFrame:
    return sc.event_2023_02_14(seed=0)


@pytest.fixture(scope="module")
def nov19_outage() -> pd.DataFrame:
    return sc.outage_2021_11_19(seed=0)


@pytest.fixture(scope="module")
def feb14_outage() -> pd.DataFrame:
    return sc.outage_2023_02_14(seed=0)


# --- structure and determinism ----------------------------------------------


def test_same_seed_same_frame_and_different_seed_differs() -> None:
    a = sc.event_2021_11_19(seed=3)
    b = sc.event_2021_11_19(seed=3)
    pd.testing.assert_frame_equal(a, b)
    c = sc.event_2021_11_19(seed=4)
    assert len(c) != len(a) or not c["observed_at"].equals(a["observed_at"])


def test_columns_types_and_order(feb14: pd.DataFrame) -> None:
    assert list(feb14.columns) == sc.COLUMNS
    assert isinstance(feb14["observed_at"].dtype, pd.DatetimeTZDtype)
    assert str(feb14["observed_at"].dt.tz) == UTC
    assert feb14["observed_at"].is_monotonic_increasing
    for col in sc.COLUMNS[1:]:
        assert pd.api.types.is_string_dtype(feb14[col]), col
    assert set(feb14["service"]) == {"tesla"}
    assert set(feb14["feature"]) <= set(sc.TESLA_FEATURES)
    assert (feb14["region"] == feb14["country"].map(sc.COUNTRY_REGION)).all()
    # Each report at a random whole second within its minute.
    assert feb14["observed_at"].dt.second.nunique() == 60
    assert (feb14["observed_at"].dt.microsecond == 0).all()
    assert feb14["observed_at"].min() >= sc.EVENTS["2023-02-14"]["history_start"]
    assert feb14["observed_at"].max() < sc.EVENTS["2023-02-14"]["history_end"]


def test_regions_agree_with_project_table() -> None:
    regions = pytest.importorskip("reports.regions")
    for country, region in sc.COUNTRY_REGION.items():
        assert regions.region_for(country) == region, country


def test_background_is_fast() -> None:
    t = time.perf_counter()
    df = sc.background(service="tesla", start="2023-01-01", end="2023-01-15", seed=1)
    elapsed = time.perf_counter() - t
    assert len(df) > 20_000
    assert elapsed < 1.0, f"two weeks took {elapsed:.2f}s"


# --- background realism -------------------------------------------------------


def test_daily_volume_and_peak_rate(two_weeks: pd.DataFrame) -> None:
    per_day = two_weeks.set_index("observed_at").resample("D").size()
    assert 1_200 <= per_day.mean() <= 3_000
    per_min = two_weeks.set_index("observed_at").resample("min").size()
    hourly_rate = per_min.resample("h").mean()
    assert 0.5 <= hourly_rate.max() <= 4.0  # busiest hours: a few reports a minute
    assert hourly_rate.min() < 0.6 * hourly_rate.mean()  # quiet hours exist


def test_diurnal_cycle_in_local_time(two_weeks: pd.DataFrame) -> None:
    for country in ("FR", "US", "AU"):
        local = two_weeks.loc[two_weeks["country"] == country, "observed_at"]
        hour = local.dt.tz_convert(sc.COUNTRY_TZ[country]).dt.hour
        night = hour.between(1, 4).sum()
        evening = hour.between(17, 20).sum()
        assert night * 4 < evening, country


def test_weekly_pattern(two_weeks: pd.DataFrame) -> None:
    us = two_weeks[two_weeks["country"] == "US"]
    local = us["observed_at"].dt.tz_convert(sc.COUNTRY_TZ["US"])
    weekend = local.dt.day_of_week >= 5
    days = local.dt.date
    per_day = us.groupby([days, weekend]).size()
    wd_mean = per_day.xs(False, level=1).mean()
    we_mean = per_day.xs(True, level=1).mean()
    assert we_mean < 0.92 * wd_mean
    # Weekday mornings have a commute peak that weekends lack.
    morning = local.dt.hour.between(7, 8)
    assert morning[~weekend].mean() > 1.5 * morning[weekend].mean()


def test_over_dispersed_counts(two_weeks: pd.DataFrame) -> None:
    # Same-hour-of-week counts vary more than Poisson would allow.
    # (Poisson would give a variance/mean ratio of about 1.)
    us = two_weeks[two_weeks["country"] == "US"].set_index("observed_at")
    q = us.resample("15min").size()
    by_slot = q.groupby([q.index.day_of_week, q.index.hour]).agg(["mean", "var"])
    busy = by_slot[by_slot["mean"] > 5]
    assert (busy["var"] / busy["mean"]).median() > 1.5


def test_micro_bursts_are_small_and_present(two_weeks: pd.DataFrame) -> None:
    bursts = two_weeks.attrs["micro_bursts"]
    assert 2 <= len(bursts) <= 20  # a few a week
    for b in bursts:
        assert 3 <= b["n"] <= 8
        near = two_weeks[
            (two_weeks["country"] == b["country"])
            & (two_weeks["observed_at"] >= b["at"])
            & (two_weeks["observed_at"] < b["at"] + pd.Timedelta(minutes=3))
        ]
        assert len(near) >= b["n"]


# --- 19 Nov 2021 -------------------------------------------------------------


def test_nov19_peak_and_tail_volumes(nov19_outage: pd.DataFrame) -> None:
    assert 400 <= len(between(nov19_outage, "2021-11-19 21:30", "2021-11-19 21:45")) <= 600
    assert 35 <= len(between(nov19_outage, "2021-11-19 21:45", "2021-11-20 02:45")) <= 85
    assert len(between(nov19_outage, "2021-11-19 00:00", "2021-11-19 21:00")) == 0
    per_min = nov19_outage.set_index("observed_at").resample("min").size()
    assert ts("2021-11-19 21:35") <= per_min.idxmax() <= ts("2021-11-19 21:45")


def test_nov19_who_what_when(nov19_outage: pd.DataFrame) -> None:
    assert set(nov19_outage["code"]) == {"500"}
    assert set(nov19_outage["feature"]) == {"remote-unlock", "location"}
    assert set(nov19_outage["region"]) == {"NA", "EU", "APAC"}
    assert {"KR", "AU"} <= set(nov19_outage["country"])
    assert "CN" not in set(nov19_outage["country"])
    first = nov19_outage.groupby("region")["observed_at"].min()
    assert first["NA"] < ts("2021-11-19 21:05")
    assert ts("2021-11-19 21:10") <= first["EU"] < ts("2021-11-19 21:20")
    assert ts("2021-11-19 21:18") <= first["APAC"] < ts("2021-11-19 21:30")


def test_event_is_background_plus_overlay() -> None:
    bg_seed, ov_seed = sc.child_seeds(5)
    e = sc.EVENTS["2021-11-19"]
    bg = sc.background(service="tesla", start=e["history_start"], end=e["history_end"], seed=bg_seed)
    ov = sc.outage_2021_11_19(seed=ov_seed)
    assert len(sc.event_2021_11_19(seed=5)) == len(bg) + len(ov)


# --- 14 Feb 2023 -------------------------------------------------------------


def test_feb14_is_eu_only_503_remote_controls(feb14_outage: pd.DataFrame) -> None:
    assert set(feb14_outage["region"]) == {"EU"}
    assert set(feb14_outage["code"]) == {"503"}
    assert set(feb14_outage["feature"]) == set(sc.EU_REMOTE_FEATURES)
    assert feb14_outage["observed_at"].min() >= ts("2023-02-14 09:00")


def test_feb14_outage_is_clearly_visible(feb14: pd.DataFrame) -> None:
    eu = feb14[feb14["region"] == "EU"].set_index("observed_at").resample("min").size()
    assert eu.loc[ts("2023-02-14 09:15") : ts("2023-02-14 11:45")].mean() >= 15  # tens a minute
    assert eu.loc[ts("2023-02-14 06:00") : ts("2023-02-14 08:59")].mean() < 2


def test_feb14_dip_between_1200_and_1230(feb14: pd.DataFrame) -> None:
    def eu_rate(start: str, end: str) -> float:
        w = between(feb14[feb14["region"] == "EU"], start, end)
        return len(w) / ((ts(end) - ts(start)).total_seconds() / 60)

    dip = eu_rate("2023-02-14 12:05", "2023-02-14 12:30")
    before = eu_rate("2023-02-14 11:30", "2023-02-14 12:00")
    after = eu_rate("2023-02-14 12:40", "2023-02-14 13:10")
    # Same window on the previous days: what "near baseline" means.
    usual = np.mean([eu_rate(f"2023-02-{d:02d} 12:05", f"2023-02-{d:02d} 12:30") for d in range(1, 14)])
    assert dip < 0.1 * before and dip < 0.1 * after
    assert dip < usual + 1.5


def test_feb14_supercharging_stays_ordinary(feb14: pd.DataFrame) -> None:
    sc_rows = feb14[feb14["feature"] == "supercharging"]
    during = len(between(sc_rows, "2023-02-14 09:00", "2023-02-14 21:00"))
    usual = np.mean([len(between(sc_rows, f"2023-02-{d:02d} 09:00", f"2023-02-{d:02d} 21:00")) for d in range(1, 14)])
    assert 0.6 * usual <= during <= 1.5 * usual


# --- shifting, demo stream, CSV ------------------------------------------------


def test_shift_moves_last_row_and_keeps_shape(feb14_outage: pd.DataFrame) -> None:
    moved = sc.shift(feb14_outage, to_end="2030-06-01T12:00Z")
    assert moved["observed_at"].max() == ts("2030-06-01 12:00")
    assert moved["observed_at"].diff().equals(feb14_outage["observed_at"].diff())
    anchored = sc.shift(feb14_outage, to_end="2030-06-01T12:00Z", anchor="2023-02-14T09:00Z")
    assert anchored["observed_at"].min() >= ts("2030-06-01 12:00")
    assert feb14_outage["observed_at"].min() >= ts("2023-02-14 09:00")  # input untouched


def test_demo_stream_replays_feb14_within_last_day() -> None:
    now = ts("2025-03-05 17:23:41")
    df = sc.demo_stream(now=now, seed=2)
    assert df["observed_at"].max() < now
    assert df["observed_at"].min() >= now - pd.Timedelta(days=14)
    truth = sc.demo_truth(now=now)
    assert truth["onset"] == now - pd.Timedelta(hours=14)
    assert now - pd.Timedelta(hours=24) < truth["onset"] < truth["end"] < now
    eu503 = df[(df["region"] == "EU") & (df["code"] == "503")]
    in_day = between(eu503, str(now - pd.Timedelta(hours=24)), str(now))
    earlier = between(eu503, str(now - pd.Timedelta(days=14)), str(now - pd.Timedelta(hours=24)))
    assert len(in_day) > 20 * len(earlier) / 13  # the outage dwarfs a usual day
    first_hour = between(eu503, str(truth["onset"]), str(truth["onset"] + pd.Timedelta(hours=1)))
    hour_before = between(eu503, str(truth["onset"] - pd.Timedelta(hours=1)), str(truth["onset"]))
    assert len(first_hour) > 500 and len(hour_before) < 10


def test_to_csv_format(tmp_path, nov19_outage: pd.DataFrame) -> None:
    path = tmp_path / "nov19.csv"
    sc.to_csv(nov19_outage, path)
    lines = path.read_text().splitlines()
    assert lines[0] == "observed_at,service,country,code,feature"
    assert len(lines) == len(nov19_outage) + 1
    assert re.fullmatch(r"2021-11-19T21:\d\d:\d\dZ,tesla,[A-Z]{2},500,(remote-unlock|location)", lines[1])
    back = pd.read_csv(path, dtype=str)
    parsed = pd.to_datetime(back["observed_at"], utc=True)
    assert (parsed.to_numpy() == nov19_outage["observed_at"].to_numpy()).all()


def test_retime_event_moves_every_timestamp() -> None:
    moved = sc.retime_event("2021-11-19", onset="2030-01-01T00:00Z")
    assert moved["onset"] == ts("2030-01-01 00:00")
    assert moved["peak"] == ts("2030-01-01 00:40")
    assert moved["phases"][1]["start"] == ts("2030-01-01 00:30")
    assert moved["region_onsets"]["APAC"] == ts("2030-01-01 00:20")
    assert sc.EVENTS["2021-11-19"]["onset"] == ts("2021-11-19 21:00")  # original untouched
