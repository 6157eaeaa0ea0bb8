"""Seeded, deterministic crowd-report scenarios for Tremor: background plus outages.

The background (demo.background) follows the fleet's countries, each in its
own local time, with a weekly pattern, over-dispersed (gamma-Poisson) noise
and harmless micro-bursts; the reference outages (demo.reference_events) sit
on top of it. Detectors and scope attribution are tested against these, and
`./tremor up`'s demo data is one of them (`demo_stream`).

Pure numpy/pandas: no Django, so it runs in plain pytest and in the seeder.
Every frame has columns observed_at (tz-aware UTC), service, country, region,
code, feature, sorted by observed_at.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .background import (
    COLUMNS,
    COUNTRY_REGION,
    COUNTRY_TZ,
    CSV_COLUMNS,
    FLEET_WEIGHTS,
    TESLA_FEATURES,
    background,
    concat,
    utc,
)
from .reference_events import EU_REMOTE_FEATURES, EVENTS, outage_2021_11_19, outage_2023_02_14, retime_event

__all__ = [
    "COLUMNS", "COUNTRY_REGION", "COUNTRY_TZ", "CSV_COLUMNS", "EU_REMOTE_FEATURES", "EVENTS", "FLEET_WEIGHTS",
    "TESLA_FEATURES", "background", "child_seeds", "concat", "demo_stream", "demo_truth", "event_2021_11_19",
    "event_2023_02_14", "outage_2021_11_19", "outage_2023_02_14", "retime_event", "shift", "to_csv",
]  # fmt: skip


def child_seeds(seed: int) -> tuple[int, int]:
    """Independent child seeds for background and overlay."""
    a, b = np.random.SeedSequence(seed).generate_state(2)
    return int(a), int(b)


def event_2023_02_14(*, service: str = "tesla", seed: int = 0, daily_reports: float = 2000.0) -> pd.DataFrame:
    """Two weeks of history, the 14 Feb 2023 EU outage, until 15 Feb 06:00 UTC."""
    e = EVENTS["2023-02-14"]
    bg_seed, ov_seed = child_seeds(seed)
    bg = background(
        service=service, start=e["history_start"], end=e["history_end"], daily_reports=daily_reports, seed=bg_seed
    )
    return concat(bg, outage_2023_02_14(onset=e["onset"], service=service, seed=ov_seed))


def event_2021_11_19(*, service: str = "tesla", seed: int = 0, daily_reports: float = 2000.0) -> pd.DataFrame:
    """Two weeks of history, the 19 Nov 2021 worldwide outage, until 20 Nov 06:00 UTC."""
    e = EVENTS["2021-11-19"]
    bg_seed, ov_seed = child_seeds(seed)
    bg = background(
        service=service, start=e["history_start"], end=e["history_end"], daily_reports=daily_reports, seed=bg_seed
    )
    return concat(bg, outage_2021_11_19(onset=e["onset"], service=service, seed=ov_seed))


def shift(
    df: pd.DataFrame, *, to_end: str | datetime | pd.Timestamp, anchor: str | datetime | pd.Timestamp | None = None
) -> pd.DataFrame:
    """Move a scenario in time so `anchor` (default: its last report) lands on
    `to_end`. Note the diurnal/weekly cycle moves with it: to keep it aligned
    with local time, shift by whole weeks or prefer `demo_stream`."""
    out = df.copy()
    if out.empty:
        return out
    ref = utc(anchor) if anchor is not None else out["observed_at"].max()
    out["observed_at"] = out["observed_at"] + (utc(to_end) - ref)
    return out


DEMO_ONSET_BEFORE_NOW = pd.Timedelta(hours=14)


def demo_stream(
    *, now: str | datetime | pd.Timestamp, service: str = "tesla", seed: int = 0, daily_reports: float = 2000.0
) -> pd.DataFrame:
    """Two weeks of ordinary background ending at `now`, plus the 14 Feb 2023
    outage shape starting 14 hours before `now` (so it all fits in the last day:
    the overlay lasts 15 h, reports after `now` are dropped). Background is
    generated in real local time, so the diurnal cycle stays truthful."""
    end = utc(now)
    bg_seed, ov_seed = child_seeds(seed)
    bg = background(
        service=service, start=end - pd.Timedelta(days=14), end=end, daily_reports=daily_reports, seed=bg_seed
    )
    ov = outage_2023_02_14(onset=end - DEMO_ONSET_BEFORE_NOW, service=service, seed=ov_seed)
    ov = ov[ov["observed_at"] < end]
    return concat(bg, ov)


def demo_truth(*, now: str | datetime | pd.Timestamp) -> dict:
    """EVENTS["2023-02-14"] re-timed to the demo stream ending at `now`."""
    return retime_event("2023-02-14", onset=utc(now) - DEMO_ONSET_BEFORE_NOW)


def to_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write observed_at,service,country,code,feature with ISO 8601 UTC stamps."""
    out = df[CSV_COLUMNS].copy()
    out["observed_at"] = out["observed_at"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out.to_csv(path, index=False)
