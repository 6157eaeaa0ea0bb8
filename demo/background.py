"""Ordinary crowd-report traffic for generated scenarios: the background every scenario sits on.

Two reference outages of the Tesla app (from press reports) are rebuilt on top
of a realistic background: per-country volumes resembling the fleet, a diurnal
cycle in each country's *local* time, a weekly pattern, over-dispersed
(gamma-Poisson) noise and a few harmless micro-bursts a week. Detectors and
scope attribution are tested against these, so the ground truth lives here too
(`EVENTS`).

Pure numpy/pandas: no Django, so it runs in plain pytest and in the seeder.
Every frame has columns observed_at (tz-aware UTC), service, country, region,
code, feature, sorted by observed_at.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import numpy as np
import pandas as pd

from reports.regions import REGION_BY_COUNTRY

COLUMNS = ["observed_at", "service", "country", "region", "code", "feature"]
CSV_COLUMNS = ["observed_at", "service", "country", "code", "feature"]

# Share of background reports per country, loosely following Tesla's fleet and
# how much each market uses a Downdetector-style site (China barely does).
FLEET_WEIGHTS: dict[str, float] = {
    "US": 0.40,
    "CA": 0.05,
    "DE": 0.07,
    "GB": 0.06,
    "FR": 0.04,
    "NL": 0.04,
    "NO": 0.05,
    "IT": 0.015,
    "ES": 0.015,
    "SE": 0.02,
    "CH": 0.015,
    "CN": 0.04,
    "KR": 0.025,
    "AU": 0.035,
    "JP": 0.005,
    "MX": 0.01,
    "BR": 0.005,
    "AE": 0.01,
    "ZA": 0.005,
}

# Representative time zone per country: the diurnal cycle follows local time.
COUNTRY_TZ: dict[str, str] = {
    "US": "America/Chicago",
    "CA": "America/Toronto",
    "DE": "Europe/Berlin",
    "GB": "Europe/London",
    "FR": "Europe/Paris",
    "NL": "Europe/Amsterdam",
    "NO": "Europe/Oslo",
    "IT": "Europe/Rome",
    "ES": "Europe/Madrid",
    "SE": "Europe/Stockholm",
    "CH": "Europe/Zurich",
    "CN": "Asia/Shanghai",
    "KR": "Asia/Seoul",
    "AU": "Australia/Sydney",
    "JP": "Asia/Tokyo",
    "MX": "America/Mexico_City",
    "BR": "America/Sao_Paulo",
    "AE": "Asia/Dubai",
    "ZA": "Africa/Johannesburg",
}

# Regions from the one country table (reports.regions), for the countries generated here.
COUNTRY_REGION: dict[str, str] = {country: REGION_BY_COUNTRY[country] for country in FLEET_WEIGHTS}

TESLA_FEATURES = [
    "app-login",
    "remote-unlock",
    "climate",
    "sentinel-mode",
    "honk-flash",
    "scheduling",
    "location",
    "supercharging",
    "other",
]
_FEATURE_P = [0.20, 0.15, 0.12, 0.07, 0.04, 0.05, 0.10, 0.12, 0.15]

# Most crowd reports carry no error code; the rest are the usual suspects.
BACKGROUND_CODES = ["none", "500", "503", "408", "ERR_TIMEOUT", "401", "502", "ERR_NETWORK"]
_CODE_P = [0.72, 0.06, 0.05, 0.04, 0.06, 0.03, 0.02, 0.02]

# Relative report rate by local hour (value at the middle of the hour). Weekdays
# have a commute peak in the morning and a bigger one in the evening; weekends
# start late and stay flat through the afternoon.
WEEKDAY_SHAPE = np.array(
    [
        0.15,
        0.08,
        0.05,
        0.05,
        0.07,
        0.20,
        0.60,
        1.30,
        1.80,
        1.50,
        1.10,
        1.00,
        1.10,
        1.00,
        1.00,
        1.20,
        1.50,
        1.80,
        1.90,
        1.70,
        1.30,
        0.90,
        0.60,
        0.30,
    ]
)
WEEKEND_SHAPE = np.array(
    [
        0.25,
        0.15,
        0.08,
        0.05,
        0.05,
        0.10,
        0.20,
        0.40,
        0.80,
        1.20,
        1.40,
        1.50,
        1.50,
        1.40,
        1.40,
        1.40,
        1.50,
        1.60,
        1.60,
        1.50,
        1.20,
        0.90,
        0.60,
        0.40,
    ]
)
WEEKEND_FACTOR = 0.8  # fewer drives and remote commands on weekends
_WEEKDAY_HOURS = WEEKDAY_SHAPE / WEEKDAY_SHAPE.mean()
_WEEKEND_HOURS = WEEKEND_FACTOR * WEEKEND_SHAPE / WEEKEND_SHAPE.mean()

# Gamma shapes (mean-1 multipliers): smaller = noisier. The 15-minute one makes
# counts over-dispersed like real crowd data; the daily one gives day-to-day drift.
BLOCK_SHAPE = 6.0
DAY_SHAPE = 80.0
MICRO_BURSTS_PER_WEEK = 4.0

_NS_MIN = 60 * 10**9
_NS_SEC = 10**9


def utc(ts: str | datetime | pd.Timestamp) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _minute_ns(ts: pd.Timestamp) -> int:
    """Epoch nanoseconds of `ts` floored to the minute (unit-agnostic)."""
    return int(ts.floor("min").as_unit("ns").value)


def _frame(
    minute_ns: np.ndarray,
    country: np.ndarray,
    code: np.ndarray,
    feature: np.ndarray,
    service: str,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Assemble rows: each report gets a random second within its minute."""
    ns = minute_ns.astype(np.int64) + rng.integers(0, 60, size=len(minute_ns)) * _NS_SEC
    order = np.argsort(ns, kind="stable")
    region = pd.Series(country, dtype=object).map(COUNTRY_REGION).to_numpy(dtype=object)
    df = pd.DataFrame(
        {
            "observed_at": pd.to_datetime(ns[order], unit="ns", utc=True),
            "service": np.full(len(ns), service, dtype=object),
            "country": np.asarray(country, dtype=object)[order],
            "region": np.asarray(region, dtype=object)[order],
            "code": np.asarray(code, dtype=object)[order],
            "feature": np.asarray(feature, dtype=object)[order],
        }
    )
    return df.astype({c: "str" for c in COLUMNS[1:]})


def concat(*frames: pd.DataFrame) -> pd.DataFrame:
    bursts = [b for f in frames for b in f.attrs.get("micro_bursts", [])]
    df = pd.concat(frames, ignore_index=True).sort_values("observed_at", kind="stable")
    df = df.reset_index(drop=True)
    df.attrs = {"micro_bursts": bursts}
    return df


def _diurnal(grid: pd.DatetimeIndex, tz: str) -> np.ndarray:
    """Relative rate per minute of `grid`, from the local-time hourly profile.

    Interpolating between hour midpoints avoids steps on the hour; weekend vs
    weekday is decided by the local calendar day, so Saturday starts at local
    midnight in every country.
    """
    local = grid.tz_convert(tz)
    hour = local.hour.to_numpy() + local.minute.to_numpy() / 60.0
    xp = np.arange(-0.5, 25.0)  # hour midpoints plus wrap-around neighbours
    wd = np.interp(hour, xp, np.r_[_WEEKDAY_HOURS[-1], _WEEKDAY_HOURS, _WEEKDAY_HOURS[0]])
    we = np.interp(hour, xp, np.r_[_WEEKEND_HOURS[-1], _WEEKEND_HOURS, _WEEKEND_HOURS[0]])
    return np.where(local.day_of_week.to_numpy() >= 5, we, wd)


def background(
    *,
    service: str,
    start: str | datetime | pd.Timestamp,
    end: str | datetime | pd.Timestamp,
    daily_reports: float = 2000.0,
    seed: int = 0,
    weights: Mapping[str, float] | None = None,
    bursts_per_week: float = MICRO_BURSTS_PER_WEEK,
) -> pd.DataFrame:
    """Ordinary reports for `service` in [start, end).

    `daily_reports` is the mean number of reports per day (weekday profile);
    2,000 a day gives roughly 2-3 reports a minute at the busiest hours and a
    trickle at night. The frame's attrs["micro_bursts"] lists the injected
    micro-bursts (dicts with at, country, n) that detectors must not flag.
    """
    rng = np.random.default_rng(seed)
    weights = dict(weights or FLEET_WEIGHTS)
    countries = list(weights)
    w = np.array([weights[c] for c in countries], dtype=float)
    w /= w.sum()

    t0, t1 = utc(start).floor("min"), utc(end)
    grid = pd.date_range(t0, t1, freq="min", inclusive="left")
    n_min = len(grid)
    if n_min == 0:
        return _frame(
            np.empty(0, np.int64), np.empty(0, object), np.empty(0, object), np.empty(0, object), service, rng
        )

    # Expected reports per (minute, country), before noise.
    rate = np.empty((n_min, len(countries)))
    for j, c in enumerate(countries):
        rate[:, j] = _diurnal(grid, COUNTRY_TZ[c]) * (daily_reports * w[j] / 1440.0)

    # Gamma-Poisson: one multiplier per country per quarter hour, one per UTC day.
    minutes_from_start = np.arange(n_min)
    block = minutes_from_start // 15
    block_mult = rng.gamma(BLOCK_SHAPE, 1.0 / BLOCK_SHAPE, size=(block[-1] + 1, len(countries)))
    # Daily drift is interpolated between anchors a day apart: a step at UTC
    # midnight would be a fake change-point in the middle of the US evening.
    anchors = np.arange(0, n_min + 1440, 1440)
    day_mult = np.interp(minutes_from_start, anchors, rng.gamma(DAY_SHAPE, 1.0 / DAY_SHAPE, size=len(anchors)))
    rate *= block_mult[block] * day_mult[:, None]
    counts = rng.poisson(rate)

    mi, cj = np.nonzero(counts)
    reps = counts[mi, cj]
    minute_ns = np.repeat(_minute_ns(t0) + mi.astype(np.int64) * _NS_MIN, reps)
    country_idx = np.repeat(cj, reps)

    # Micro-bursts: 3-8 reports from one country within ~2 minutes (someone's
    # car park with bad coverage, a forum thread) -- noise, not an outage.
    n_bursts = rng.poisson(bursts_per_week * n_min / (7 * 1440))
    burst_at = np.sort(rng.integers(0, n_min, size=n_bursts))
    burst_c = rng.choice(len(countries), size=n_bursts, p=w)
    burst_n = rng.integers(3, 9, size=n_bursts)
    burst_minutes = np.concatenate(
        [np.minimum(a + rng.integers(0, 3, size=k), n_min - 1) for a, k in zip(burst_at, burst_n, strict=True)]
        or [np.empty(0, np.int64)]
    )
    minute_ns = np.r_[minute_ns, _minute_ns(t0) + burst_minutes.astype(np.int64) * _NS_MIN]
    country_idx = np.r_[country_idx, np.repeat(burst_c, burst_n)]

    n = len(minute_ns)
    country = np.array(countries, dtype=object)[country_idx]
    code = np.array(BACKGROUND_CODES, dtype=object)[rng.choice(len(BACKGROUND_CODES), n, p=_CODE_P)]
    feature = np.array(TESLA_FEATURES, dtype=object)[rng.choice(len(TESLA_FEATURES), n, p=_FEATURE_P)]
    df = _frame(minute_ns, country, code, feature, service, rng)
    # Start/end need not sit on a minute: drop seconds drawn outside [start, end).
    df = df[(df["observed_at"] >= utc(start)) & (df["observed_at"] < t1)].reset_index(drop=True)
    df.attrs = {
        "micro_bursts": [
            {"at": grid[a], "country": countries[c], "n": int(k)}
            for a, c, k in zip(burst_at, burst_c, burst_n, strict=True)
        ]
    }
    return df


def overlay(
    *,
    onset: pd.Timestamp,
    intensity: np.ndarray,
    country_p: np.ndarray,
    countries: list[str],
    code: str,
    features: list[str],
    feature_p: list[float],
    service: str,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Outage reports: Poisson counts from a per-minute total intensity, split
    across countries with per-minute probabilities `country_p` (minutes x countries)."""
    counts = rng.poisson(intensity[:, None] * country_p)
    mi, cj = np.nonzero(counts)
    reps = counts[mi, cj]
    minute_ns = np.repeat(_minute_ns(onset) + mi.astype(np.int64) * _NS_MIN, reps)
    country = np.array(countries, dtype=object)[np.repeat(cj, reps)]
    n = len(minute_ns)
    feature = np.array(features, dtype=object)[rng.choice(len(features), n, p=feature_p)]
    df = _frame(minute_ns, country, np.full(n, code, dtype=object), feature, service, rng)
    df.attrs = {"micro_bursts": []}
    return df
