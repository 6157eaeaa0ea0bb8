"""Seeded, deterministic crowd-report scenarios for Tremor.

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
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["observed_at", "service", "country", "region", "code", "feature"]
CSV_COLUMNS = ["observed_at", "service", "country", "code", "feature"]

# Share of background reports per country, loosely following Tesla's fleet and
# how much each market uses a Downdetector-style site (China barely does).
FLEET_WEIGHTS: dict[str, float] = {
    "US": 0.40, "CA": 0.05, "DE": 0.07, "GB": 0.06, "FR": 0.04, "NL": 0.04,
    "NO": 0.05, "IT": 0.015, "ES": 0.015, "SE": 0.02, "CH": 0.015,
    "CN": 0.04, "KR": 0.025, "AU": 0.035, "JP": 0.005, "MX": 0.01,
    "BR": 0.005, "AE": 0.01, "ZA": 0.005,
}

# Representative time zone per country: the diurnal cycle follows local time.
COUNTRY_TZ: dict[str, str] = {
    "US": "America/Chicago", "CA": "America/Toronto", "DE": "Europe/Berlin",
    "GB": "Europe/London", "FR": "Europe/Paris", "NL": "Europe/Amsterdam",
    "NO": "Europe/Oslo", "IT": "Europe/Rome", "ES": "Europe/Madrid",
    "SE": "Europe/Stockholm", "CH": "Europe/Zurich", "CN": "Asia/Shanghai",
    "KR": "Asia/Seoul", "AU": "Australia/Sydney", "JP": "Asia/Tokyo",
    "MX": "America/Mexico_City", "BR": "America/Sao_Paulo", "AE": "Asia/Dubai",
    "ZA": "Africa/Johannesburg",
}

# Same mapping as reports.regions.region_for, restricted to the countries we
# generate, so this module stays importable without the rest of the project.
COUNTRY_REGION: dict[str, str] = {
    "US": "NA", "CA": "NA",
    "DE": "EU", "GB": "EU", "FR": "EU", "NL": "EU", "NO": "EU", "IT": "EU",
    "ES": "EU", "SE": "EU", "CH": "EU",
    "CN": "APAC", "KR": "APAC", "AU": "APAC", "JP": "APAC",
    "MX": "LATAM", "BR": "LATAM", "AE": "MEA", "ZA": "MEA",
}

TESLA_FEATURES = [
    "app-login", "remote-unlock", "climate", "sentinel-mode", "honk-flash",
    "scheduling", "location", "supercharging", "other",
]
_FEATURE_P = [0.20, 0.15, 0.12, 0.07, 0.04, 0.05, 0.10, 0.12, 0.15]

# Most crowd reports carry no error code; the rest are the usual suspects.
BACKGROUND_CODES = ["none", "500", "503", "408", "ERR_TIMEOUT", "401", "502", "ERR_NETWORK"]
_CODE_P = [0.72, 0.06, 0.05, 0.04, 0.06, 0.03, 0.02, 0.02]

# Relative report rate by local hour (value at the middle of the hour). Weekdays
# have a commute peak in the morning and a bigger one in the evening; weekends
# start late and stay flat through the afternoon.
_WEEKDAY_HOURS = np.array([
    0.15, 0.08, 0.05, 0.05, 0.07, 0.20, 0.60, 1.30, 1.80, 1.50, 1.10, 1.00,
    1.10, 1.00, 1.00, 1.20, 1.50, 1.80, 1.90, 1.70, 1.30, 0.90, 0.60, 0.30])
_WEEKEND_HOURS = np.array([
    0.25, 0.15, 0.08, 0.05, 0.05, 0.10, 0.20, 0.40, 0.80, 1.20, 1.40, 1.50,
    1.50, 1.40, 1.40, 1.40, 1.50, 1.60, 1.60, 1.50, 1.20, 0.90, 0.60, 0.40])
WEEKEND_FACTOR = 0.8  # fewer drives and remote commands on weekends
_WEEKDAY_HOURS = _WEEKDAY_HOURS / _WEEKDAY_HOURS.mean()
_WEEKEND_HOURS = WEEKEND_FACTOR * _WEEKEND_HOURS / _WEEKEND_HOURS.mean()

# Gamma shapes (mean-1 multipliers): smaller = noisier. The 15-minute one makes
# counts over-dispersed like real crowd data; the daily one gives day-to-day drift.
BLOCK_SHAPE = 6.0
DAY_SHAPE = 80.0
MICRO_BURSTS_PER_WEEK = 4.0

_NS_MIN = 60 * 10**9
_NS_SEC = 10**9

EU_REMOTE_FEATURES = ["remote-unlock", "climate", "sentinel-mode", "scheduling", "honk-flash"]
_EU_REMOTE_P = [0.28, 0.26, 0.20, 0.14, 0.12]
_EU_COUNTRIES = [c for c, r in COUNTRY_REGION.items() if r == "EU"]

# 19 Nov 2021: who was hit, how strongly (share of affected users) and how many
# minutes after 21:00 UTC each joined (North America first, Asia-Pacific last).
_NOV21_WEIGHTS = {
    "US": 0.40, "CA": 0.06, "DE": 0.07, "GB": 0.06, "NL": 0.04, "NO": 0.05,
    "FR": 0.03, "SE": 0.02, "CH": 0.015, "IT": 0.01, "ES": 0.01,
    "KR": 0.07, "AU": 0.06,  # press singled them out: many cars, early-morning users
}
_NOV21_DELAY_MIN = {"NA": 0.0, "EU": 12.0, "APAC": 20.0}
_NOV21_FEATURES = ["remote-unlock", "location"]
_NOV21_FEATURE_P = [0.65, 0.35]


def _utc(ts: str | datetime | pd.Timestamp) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _minute_ns(ts: pd.Timestamp) -> int:
    """Epoch nanoseconds of `ts` floored to the minute (unit-agnostic)."""
    return int(ts.floor("min").as_unit("ns").value)


def _frame(minute_ns: np.ndarray, country: np.ndarray, code: np.ndarray,
           feature: np.ndarray, service: str, rng: np.random.Generator) -> pd.DataFrame:
    """Assemble rows: each report gets a random second within its minute."""
    ns = minute_ns.astype(np.int64) + rng.integers(0, 60, size=len(minute_ns)) * _NS_SEC
    order = np.argsort(ns, kind="stable")
    region = pd.Series(country, dtype=object).map(COUNTRY_REGION).to_numpy(dtype=object)
    df = pd.DataFrame({
        "observed_at": pd.to_datetime(ns[order], unit="ns", utc=True),
        "service": np.full(len(ns), service, dtype=object),
        "country": np.asarray(country, dtype=object)[order],
        "region": np.asarray(region, dtype=object)[order],
        "code": np.asarray(code, dtype=object)[order],
        "feature": np.asarray(feature, dtype=object)[order],
    })
    return df.astype({c: "str" for c in COLUMNS[1:]})


def _concat(*frames: pd.DataFrame) -> pd.DataFrame:
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


def background(*, service: str, start: str | datetime | pd.Timestamp,
               end: str | datetime | pd.Timestamp, daily_reports: float = 2000.0,
               seed: int = 0, weights: Mapping[str, float] | None = None,
               bursts_per_week: float = MICRO_BURSTS_PER_WEEK) -> pd.DataFrame:
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

    t0, t1 = _utc(start).floor("min"), _utc(end)
    grid = pd.date_range(t0, t1, freq="min", inclusive="left")
    n_min = len(grid)
    if n_min == 0:
        return _frame(np.empty(0, np.int64), np.empty(0, object), np.empty(0, object),
                      np.empty(0, object), service, rng)

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
    day_mult = np.interp(minutes_from_start, anchors,
                         rng.gamma(DAY_SHAPE, 1.0 / DAY_SHAPE, size=len(anchors)))
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
        or [np.empty(0, np.int64)])
    minute_ns = np.r_[minute_ns, _minute_ns(t0) + burst_minutes.astype(np.int64) * _NS_MIN]
    country_idx = np.r_[country_idx, np.repeat(burst_c, burst_n)]

    n = len(minute_ns)
    country = np.array(countries, dtype=object)[country_idx]
    code = np.array(BACKGROUND_CODES, dtype=object)[rng.choice(len(BACKGROUND_CODES), n, p=_CODE_P)]
    feature = np.array(TESLA_FEATURES, dtype=object)[rng.choice(len(TESLA_FEATURES), n, p=_FEATURE_P)]
    df = _frame(minute_ns, country, code, feature, service, rng)
    # Start/end need not sit on a minute: drop seconds drawn outside [start, end).
    df = df[(df["observed_at"] >= _utc(start)) & (df["observed_at"] < t1)].reset_index(drop=True)
    df.attrs = {"micro_bursts": [
        {"at": grid[a], "country": countries[c], "n": int(k)}
        for a, c, k in zip(burst_at, burst_c, burst_n, strict=True)]}
    return df


def _overlay(*, onset: pd.Timestamp, intensity: np.ndarray, country_p: np.ndarray,
             countries: list[str], code: str, features: list[str], feature_p: list[float],
             service: str, rng: np.random.Generator) -> pd.DataFrame:
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


def _feb23_intensity() -> np.ndarray:
    """Total EU reports per minute, minute 0 = onset (09:00 UTC on the day).

    Phase 1 (0-180): sharp rise to ~30/min, slow decline. Recovery (180-210):
    the service comes back for half an hour, reports fall to a trickle.
    Phase 2 (210-): fails again, ~25/min, decaying into the evening.
    """
    t = np.arange(15 * 60, dtype=float)
    phase1 = 30.0 * (1 - np.exp(-t / 8.0)) * np.exp(-np.maximum(t - 30.0, 0) / 300.0)
    lull = phase1[179] * np.exp(-(t - 180.0) / 2.0) + 0.2
    rise2 = 1 - np.exp(-np.maximum(t - 210.0, 0) / 5.0)
    phase2 = 25.0 * rise2 * np.exp(-np.maximum(t - 225.0, 0) / 150.0)
    return np.where(t < 180, phase1, np.where(t < 210, lull, np.maximum(phase2, 0.2)))


def outage_2023_02_14(*, onset: str | datetime | pd.Timestamp = "2023-02-14T09:00Z",
                      service: str = "tesla", seed: int = 1) -> pd.DataFrame:
    """Only the outage reports of the 14 Feb 2023 EU "503 server maintenance"
    pattern, starting at `onset`: EU countries weighted by fleet, code 503, the
    five remote-control features (Bluetooth unlock and supercharging kept working,
    so supercharging gets no extra reports)."""
    rng = np.random.default_rng(seed)
    intensity = _feb23_intensity()
    w = np.array([FLEET_WEIGHTS[c] for c in _EU_COUNTRIES])
    p = np.broadcast_to(w / w.sum(), (len(intensity), len(w)))
    return _overlay(onset=_utc(onset), intensity=intensity, country_p=p, countries=_EU_COUNTRIES,
                    code="503", features=EU_REMOTE_FEATURES, feature_p=_EU_REMOTE_P,
                    service=service, rng=rng)


def _nov21_intensity() -> np.ndarray:
    """Total reports per minute, minute 0 = 21:00 UTC.

    A slow start (US/CA only), an asymmetric peak at +40 min whose 30-45 min
    quarter hour holds ~500 reports, then a fast collapse once fixed and a
    five-hour tail of ~60 stragglers.
    """
    t = np.arange(6 * 60, dtype=float)
    shape = np.where(t < 40, np.exp(-0.5 * ((t - 40) / 9.0) ** 2),
                     np.exp(-0.5 * ((t - 40) / 3.0) ** 2))
    # Owners who cannot unlock their car report at once: the first US/CA
    # reports arrive at ~3 a minute from 21:00, not as a slow trickle (press
    # reports date the start to 21:00; the ramp to the peak is more people noticing).
    early = np.where(t < 40, 3.0 + 2.0 * t / 40.0, 0.0)
    tail_shape = np.where(t >= 45, np.exp(-(t - 45) / 60.0), 0.0)
    peak_win, tail_win = (t >= 30) & (t < 45), (t >= 45) & (t < 345)
    # Scale the peak so the 21:30-21:45 quarter holds ~500, then the tail so the
    # next five hours hold ~60 in total (including the peak's own fall-off).
    peak = (500.0 - early[peak_win].sum()) / shape[peak_win].sum()
    tail = (60.0 - peak * shape[tail_win].sum()) / tail_shape[tail_win].sum()
    return np.where(t < 345, early + peak * shape + tail * tail_shape, 0.0)


def outage_2021_11_19(*, onset: str | datetime | pd.Timestamp = "2021-11-19T21:00Z",
                      service: str = "tesla", seed: int = 1) -> pd.DataFrame:
    """Only the outage reports of the 19 Nov 2021 worldwide "500 server error"
    pattern: North America from `onset`, Europe ~12 min later, South Korea and
    Australia ~20 min later; code 500; remote-unlock and location."""
    rng = np.random.default_rng(seed)
    intensity = _nov21_intensity()
    countries = list(_NOV21_WEIGHTS)
    w = np.array([_NOV21_WEIGHTS[c] for c in countries])
    delay = np.array([_NOV21_DELAY_MIN[COUNTRY_REGION[c]] for c in countries])
    t = np.arange(len(intensity), dtype=float)[:, None]
    # Each region ramps in over ~5 minutes after its delay.
    active = np.clip((t - delay[None, :]) / 5.0, 0.0, 1.0) * w[None, :]
    p = active / np.maximum(active.sum(axis=1, keepdims=True), 1e-12)
    return _overlay(onset=_utc(onset), intensity=intensity, country_p=p, countries=countries,
                    code="500", features=_NOV21_FEATURES, feature_p=_NOV21_FEATURE_P,
                    service=service, rng=rng)


def _seeds(seed: int) -> tuple[int, int]:
    """Independent child seeds for background and overlay."""
    a, b = np.random.SeedSequence(seed).generate_state(2)
    return int(a), int(b)


def event_2023_02_14(*, service: str = "tesla", seed: int = 0,
                     daily_reports: float = 2000.0) -> pd.DataFrame:
    """Two weeks of history, the 14 Feb 2023 EU outage, until 15 Feb 06:00 UTC."""
    e = EVENTS["2023-02-14"]
    bg_seed, ov_seed = _seeds(seed)
    bg = background(service=service, start=e["history_start"], end=e["history_end"],
                    daily_reports=daily_reports, seed=bg_seed)
    return _concat(bg, outage_2023_02_14(onset=e["onset"], service=service, seed=ov_seed))


def event_2021_11_19(*, service: str = "tesla", seed: int = 0,
                     daily_reports: float = 2000.0) -> pd.DataFrame:
    """Two weeks of history, the 19 Nov 2021 worldwide outage, until 20 Nov 06:00 UTC."""
    e = EVENTS["2021-11-19"]
    bg_seed, ov_seed = _seeds(seed)
    bg = background(service=service, start=e["history_start"], end=e["history_end"],
                    daily_reports=daily_reports, seed=bg_seed)
    return _concat(bg, outage_2021_11_19(onset=e["onset"], service=service, seed=ov_seed))


def shift(df: pd.DataFrame, *, to_end: str | datetime | pd.Timestamp,
          anchor: str | datetime | pd.Timestamp | None = None) -> pd.DataFrame:
    """Move a scenario in time so `anchor` (default: its last report) lands on
    `to_end`. Note the diurnal/weekly cycle moves with it: to keep it aligned
    with local time, shift by whole weeks or prefer `demo_stream`."""
    out = df.copy()
    if out.empty:
        return out
    ref = _utc(anchor) if anchor is not None else out["observed_at"].max()
    out["observed_at"] = out["observed_at"] + (_utc(to_end) - ref)
    return out


DEMO_ONSET_BEFORE_NOW = pd.Timedelta(hours=14)


def demo_stream(*, now: str | datetime | pd.Timestamp, service: str = "tesla", seed: int = 0,
                daily_reports: float = 2000.0) -> pd.DataFrame:
    """Two weeks of ordinary background ending at `now`, plus the 14 Feb 2023
    outage shape starting 14 hours before `now` (so it all fits in the last day:
    the overlay lasts 15 h, reports after `now` are dropped). Background is
    generated in real local time, so the diurnal cycle stays truthful."""
    end = _utc(now)
    bg_seed, ov_seed = _seeds(seed)
    bg = background(service=service, start=end - pd.Timedelta(days=14), end=end,
                    daily_reports=daily_reports, seed=bg_seed)
    ov = outage_2023_02_14(onset=end - DEMO_ONSET_BEFORE_NOW, service=service, seed=ov_seed)
    ov = ov[ov["observed_at"] < end]
    return _concat(bg, ov)


def demo_truth(*, now: str | datetime | pd.Timestamp) -> dict:
    """EVENTS["2023-02-14"] re-timed to the demo stream ending at `now`."""
    return retime_event("2023-02-14", onset=_utc(now) - DEMO_ONSET_BEFORE_NOW)


def retime_event(key: str, *, onset: str | datetime | pd.Timestamp) -> dict:
    """A copy of EVENTS[key] with every timestamp moved so the onset is `onset`."""
    delta = _utc(onset) - EVENTS[key]["onset"]

    def move(v):  # walk dicts/lists so phases and region onsets move too
        if isinstance(v, pd.Timestamp):
            return v + delta
        if isinstance(v, dict):
            return {k: move(x) for k, x in v.items()}
        return [move(x) for x in v] if isinstance(v, list) else v

    return move(EVENTS[key])


def to_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write observed_at,service,country,code,feature with ISO 8601 UTC stamps."""
    out = df[CSV_COLUMNS].copy()
    out["observed_at"] = out["observed_at"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out.to_csv(path, index=False)


def _ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


def _phases(*spec: tuple[str, str, str]) -> list[dict]:
    return [{"name": n, "start": _ts(a), "end": _ts(b)} for n, a, b in spec]


# Ground truth for the reference events. "scope" is what attribution must find;
# "unaffected" lists values that report as usual and must stay out of scope.
# "regional" is the expected is_regional() verdict given usual regional volumes.
EVENTS: dict[str, dict] = {
    "2023-02-14": {
        "service": "tesla", "title": "Tesla app 503 server maintenance, Europe only",
        "history_start": _ts("2023-01-31 00:00"), "history_end": _ts("2023-02-15 06:00"),
        "onset": _ts("2023-02-14 09:00"), "peak": _ts("2023-02-14 09:30"), "end": _ts("2023-02-14 21:00"),
        "phases": _phases(("outage", "2023-02-14 09:00", "2023-02-14 12:00"),
                          ("recovered", "2023-02-14 12:00", "2023-02-14 12:30"),
                          ("outage", "2023-02-14 12:30", "2023-02-14 21:00")),
        "scope": {"regions": ["EU"], "countries": list(_EU_COUNTRIES), "codes": ["503"],
                  "features": list(EU_REMOTE_FEATURES)},
        "unaffected": {"regions": ["NA", "APAC", "LATAM", "MEA"], "countries": ["CN", "US", "KR", "AU"],
                       "features": ["supercharging", "app-login", "location", "other"]},
        "regional": True,
    },
    "2021-11-19": {
        "service": "tesla", "title": "Tesla app 500 server error, worldwide",
        "history_start": _ts("2021-11-05 00:00"), "history_end": _ts("2021-11-20 06:00"),
        "onset": _ts("2021-11-19 21:00"), "peak": _ts("2021-11-19 21:40"), "end": _ts("2021-11-20 02:45"),
        "phases": _phases(("onset", "2021-11-19 21:00", "2021-11-19 21:30"),
                          ("peak", "2021-11-19 21:30", "2021-11-19 21:45"),
                          ("tail", "2021-11-19 21:45", "2021-11-20 02:45")),
        "expected_counts": {"peak": 500, "tail": 60},  # outage reports only, per phase
        "region_onsets": {r: _ts("2021-11-19 21:00") + pd.Timedelta(minutes=m)
                          for r, m in _NOV21_DELAY_MIN.items()},
        "scope": {"regions": ["NA", "EU", "APAC"], "countries": list(_NOV21_WEIGHTS), "codes": ["500"],
                  "features": list(_NOV21_FEATURES)},
        "unaffected": {"regions": ["LATAM", "MEA"], "countries": ["CN", "JP", "MX", "BR", "AE", "ZA"],
                       "features": ["supercharging", "app-login", "climate", "other"]},
        "regional": False,
    },
}
