"""The two reference outages of the Tesla app (facts from press reports), as generated reports.

14 Feb 2023: "503 server maintenance", Europe only, a relapse after a lull.
19 Nov 2021: "500 server error", worldwide, North America first. `EVENTS`
holds what detection and scope attribution must find in them.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from .background import COUNTRY_REGION, FLEET_WEIGHTS, overlay, utc

EU_REMOTE_FEATURES = ["remote-unlock", "climate", "sentinel-mode", "scheduling", "honk-flash"]
_EU_REMOTE_P = [0.28, 0.26, 0.20, 0.14, 0.12]
_EU_COUNTRIES = [c for c, r in COUNTRY_REGION.items() if r == "EU"]

# 19 Nov 2021: who was hit, how strongly (share of affected users) and how many
# minutes after 21:00 UTC each joined (North America first, Asia-Pacific last).
_NOV21_WEIGHTS = {
    "US": 0.40,
    "CA": 0.06,
    "DE": 0.07,
    "GB": 0.06,
    "NL": 0.04,
    "NO": 0.05,
    "FR": 0.03,
    "SE": 0.02,
    "CH": 0.015,
    "IT": 0.01,
    "ES": 0.01,
    "KR": 0.07,
    "AU": 0.06,  # press singled them out: many cars, early-morning users
}
_NOV21_DELAY_MIN = {"NA": 0.0, "EU": 12.0, "APAC": 20.0}
_NOV21_FEATURES = ["remote-unlock", "location"]
_NOV21_FEATURE_P = [0.65, 0.35]


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


def outage_2023_02_14(
    *, onset: str | datetime | pd.Timestamp = "2023-02-14T09:00Z", service: str = "tesla", seed: int = 1
) -> pd.DataFrame:
    """Only the outage reports of the 14 Feb 2023 EU "503 server maintenance"
    pattern, starting at `onset`: EU countries weighted by fleet, code 503, the
    five remote-control features (Bluetooth unlock and supercharging kept working,
    so supercharging gets no extra reports)."""
    rng = np.random.default_rng(seed)
    intensity = _feb23_intensity()
    w = np.array([FLEET_WEIGHTS[c] for c in _EU_COUNTRIES])
    p = np.broadcast_to(w / w.sum(), (len(intensity), len(w)))
    return overlay(
        onset=utc(onset),
        intensity=intensity,
        country_p=p,
        countries=_EU_COUNTRIES,
        code="503",
        features=EU_REMOTE_FEATURES,
        feature_p=_EU_REMOTE_P,
        service=service,
        rng=rng,
    )


def _nov21_intensity() -> np.ndarray:
    """Total reports per minute, minute 0 = 21:00 UTC.

    A slow start (US/CA only), an asymmetric peak at +40 min whose 30-45 min
    quarter hour holds ~500 reports, then a fast collapse once fixed and a
    five-hour tail of ~60 stragglers.
    """
    t = np.arange(6 * 60, dtype=float)
    shape = np.where(t < 40, np.exp(-0.5 * ((t - 40) / 9.0) ** 2), np.exp(-0.5 * ((t - 40) / 3.0) ** 2))
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


def outage_2021_11_19(
    *, onset: str | datetime | pd.Timestamp = "2021-11-19T21:00Z", service: str = "tesla", seed: int = 1
) -> pd.DataFrame:
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
    return overlay(
        onset=utc(onset),
        intensity=intensity,
        country_p=p,
        countries=countries,
        code="500",
        features=_NOV21_FEATURES,
        feature_p=_NOV21_FEATURE_P,
        service=service,
        rng=rng,
    )


def _ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


def _phases(*spec: tuple[str, str, str]) -> list[dict]:
    return [{"name": n, "start": _ts(a), "end": _ts(b)} for n, a, b in spec]


# Ground truth for the reference events. "scope" is what attribution must find;
# "unaffected" lists values that report as usual and must stay out of scope.
# "regional" is the expected is_regional() verdict given usual regional volumes.
EVENTS: dict[str, dict] = {
    "2023-02-14": {
        "service": "tesla",
        "title": "Tesla app 503 server maintenance, Europe only",
        "history_start": _ts("2023-01-31 00:00"),
        "history_end": _ts("2023-02-15 06:00"),
        "onset": _ts("2023-02-14 09:00"),
        "peak": _ts("2023-02-14 09:30"),
        "end": _ts("2023-02-14 21:00"),
        "phases": _phases(
            ("outage", "2023-02-14 09:00", "2023-02-14 12:00"),
            ("recovered", "2023-02-14 12:00", "2023-02-14 12:30"),
            ("outage", "2023-02-14 12:30", "2023-02-14 21:00"),
        ),
        "scope": {
            "regions": ["EU"],
            "countries": list(_EU_COUNTRIES),
            "codes": ["503"],
            "features": list(EU_REMOTE_FEATURES),
        },
        "unaffected": {
            "regions": ["NA", "APAC", "LATAM", "MEA"],
            "countries": ["CN", "US", "KR", "AU"],
            "features": ["supercharging", "app-login", "location", "other"],
        },
        "regional": True,
    },
    "2021-11-19": {
        "service": "tesla",
        "title": "Tesla app 500 server error, worldwide",
        "history_start": _ts("2021-11-05 00:00"),
        "history_end": _ts("2021-11-20 06:00"),
        "onset": _ts("2021-11-19 21:00"),
        "peak": _ts("2021-11-19 21:40"),
        "end": _ts("2021-11-20 02:45"),
        "phases": _phases(
            ("onset", "2021-11-19 21:00", "2021-11-19 21:30"),
            ("peak", "2021-11-19 21:30", "2021-11-19 21:45"),
            ("tail", "2021-11-19 21:45", "2021-11-20 02:45"),
        ),
        "expected_counts": {"peak": 500, "tail": 60},  # outage reports only, per phase
        "region_onsets": {r: _ts("2021-11-19 21:00") + pd.Timedelta(minutes=m) for r, m in _NOV21_DELAY_MIN.items()},
        "scope": {
            "regions": ["NA", "EU", "APAC"],
            "countries": list(_NOV21_WEIGHTS),
            "codes": ["500"],
            "features": list(_NOV21_FEATURES),
        },
        "unaffected": {
            "regions": ["LATAM", "MEA"],
            "countries": ["CN", "JP", "MX", "BR", "AE", "ZA"],
            "features": ["supercharging", "app-login", "climate", "other"],
        },
        "regional": False,
    },
}


def retime_event(key: str, *, onset: str | datetime | pd.Timestamp) -> dict:
    """A copy of EVENTS[key] with every timestamp moved so the onset is `onset`."""
    delta = utc(onset) - EVENTS[key]["onset"]

    def move(v):  # walk dicts/lists so phases and region onsets move too
        if isinstance(v, pd.Timestamp):
            return v + delta
        if isinstance(v, dict):
            return {k: move(x) for k, x in v.items()}
        return [move(x) for x in v] if isinstance(v, list) else v

    return move(EVENTS[key])
