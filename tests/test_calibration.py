"""Self-calibrated evidence bars (DetectorConfig.calibrate): each series' own tail sets how much is unusual.

Plain pytest, no database: `pytest -p no:django --noconftest tests/test_calibration.py`.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from analytics.core.baseline import fit_profile
from analytics.core.detection import TREMOR_CONFIG
from research.evaluation import series_openings
from tests.test_detection_core import tremor_like

BURST = pd.Timedelta(minutes=10)


def with_daily_bursts(s: pd.Series, *, mult: float, seed: int) -> tuple[pd.Series, list[pd.Timestamp]]:
    """Add one burst of `mult` x the series' mean, 10 minutes long, at a random daytime minute of every day."""
    rng = np.random.default_rng(seed)
    s = s.copy()
    starts = []
    for day in pd.date_range(s.index[0], s.index[-1], freq="1D"):
        at = day + pd.Timedelta(minutes=int(rng.integers(8 * 60, 20 * 60)))
        s[at : at + BURST - pd.Timedelta(minutes=1)] += rng.poisson(mult * s.mean(), 10)
        starts.append(at)
    return s, starts


def opened_after(s: pd.Series, after: pd.Timestamp, config=TREMOR_CONFIG) -> list[pd.Timestamp]:
    return [t for t in s.index[series_openings(s, config=config)] if t >= after]


def test_a_quiet_series_keeps_the_nominal_bars():
    prof = fit_profile(tremor_like(14, base=10, seed=21), config=TREMOR_CONFIG)
    assert prof.evidence_shift is not None and (prof.evidence_shift == 0).all()


def test_one_outage_in_the_history_does_not_raise_the_bars():
    s = tremor_like(14, base=10, seed=22)
    s["2024-01-08 10:00":"2024-01-08 12:00"] *= 20
    prof = fit_profile(s, config=TREMOR_CONFIG)
    assert (prof.evidence_shift < 0.5).all(), prof.evidence_shift


def test_a_series_that_bursts_every_day_stops_crying_wolf_but_still_sees_an_outage():
    s, _ = with_daily_bursts(tremor_like(21, base=5, seed=23), mult=8.0, seed=24)
    week3 = pd.Timestamp("2024-01-15")
    assert (fit_profile(s[:week3], config=TREMOR_CONFIG).evidence_shift > 1).any()
    # Uncalibrated, nearly every day's burst is an incident; calibrated, the bursts are this series' normal.
    raw = opened_after(s, week3, replace(TREMOR_CONFIG, calibrate=False))
    calibrated = opened_after(s, week3)
    assert len(raw) >= 5
    assert len(calibrated) <= 1
    # A real outage, far beyond the daily bursts, is still found within minutes.
    onset = pd.Timestamp("2024-01-19 03:00")
    s[onset : onset + pd.Timedelta(hours=1)] += np.random.default_rng(25).poisson(40 * s.mean(), 61)
    found = [t for t in opened_after(s, week3) if onset <= t <= onset + pd.Timedelta(hours=1)]
    assert found and found[0] - onset <= pd.Timedelta(minutes=5)


def test_the_same_burst_in_a_calm_series_is_an_incident():
    calm = tremor_like(21, base=5, seed=23)
    at = pd.Timestamp("2024-01-17 12:00")
    calm[at : at + BURST - pd.Timedelta(minutes=1)] += np.random.default_rng(26).poisson(8.0 * calm.mean(), 10)
    assert [t for t in opened_after(calm, at - pd.Timedelta(hours=1)) if t <= at + BURST]
