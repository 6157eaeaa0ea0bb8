"""Checks of the candidate detector (plain pytest, no Django: `python -m pytest research/quality -p no:django`)."""

import numpy as np
import pandas as pd
import pytest

from research.quality import candidate, families


def _series(step_min=1, days=10, seed=0, rate=2.0, outage_at=None, outage_mult=10.0, outage_min=60):
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-01", periods=int(days * 1440 / step_min), freq=f"{step_min}min", tz="UTC")
    hours = (idx.hour + idx.minute / 60).to_numpy()
    mu = rate * step_min * (1 + 0.8 * np.sin(2 * np.pi * (hours - 9) / 24))
    mu = mu * rng.gamma(8, 1 / 8, len(idx))
    if outage_at is not None:
        t = (idx - pd.Timestamp(outage_at, tz="UTC")) / pd.Timedelta(minutes=1)
        mu = mu + np.where((t >= 0) & (t < outage_min), outage_mult * rate * step_min, 0)
    return pd.Series(rng.poisson(mu).astype(float), index=idx)


def test_truncation_never_changes_earlier_rows():
    sc = families.generate("sharp", 3)
    m = sc.matrix.iloc[: 10 * 1440 + 777]
    full = candidate.detect_frame(m)
    for cut in (8 * 1440 + 13, 9 * 1440 + 500):
        part = candidate.detect_frame(m.iloc[:cut])
        for f in ("expected", "evidence", "level", "elevated", "threshold", "upper"):
            a, b = getattr(full, f)[:, :cut], getattr(part, f)
            assert np.allclose(a, b, equal_nan=True), (f, cut)


def test_outage_found_at_1_5_30_minute_steps_and_none_before():
    for step in (1, 5, 30):
        s = _series(step_min=step, outage_at="2024-01-09 10:00")
        d = candidate.detect_series(s)
        lv = d["level"].to_numpy()
        t = d.index
        before = t < pd.Timestamp("2024-01-09 10:00", tz="UTC")
        during = (~before) & (t < pd.Timestamp("2024-01-09 11:00", tz="UTC"))
        assert (lv[before] < 2).all(), step
        assert (lv[during] == 2).any(), step


@pytest.mark.xfail(
    strict=True,
    reason="v6 misses a 10x, 1-hour outage at 0.2 reports/min (120 reports; "
    "evidence peaks at 7.3 against the threshold 7 and does not hold 2 minutes): a known shortfall",
)
def test_scale_free_same_decisions_at_0_2_and_2000_per_minute():
    for rate in (0.2, 2000.0):
        s = _series(rate=rate, outage_at="2024-01-09 10:00", outage_mult=10.0)
        lv = candidate.detect_series(s)["level"]
        assert (lv[:"2024-01-09 09:59"] < 2).all(), rate
        assert (lv["2024-01-09 10:00":"2024-01-09 11:00"] == 2).any(), rate


def test_irregular_timestamps():
    s = _series(outage_at="2024-01-09 10:00")
    rng = np.random.default_rng(1)
    keep = rng.uniform(size=len(s)) > 0.3  # drop 30 % of the rows
    lv = candidate.detect_series(s[keep])["level"]
    assert (lv[:"2024-01-09 09:59"] < 2).all()
    assert (lv["2024-01-09 10:00":"2024-01-09 11:00"] == 2).any()


def test_outage_in_history_does_not_lift_the_baseline_a_week_later():
    s = _series(days=16, outage_at="2024-01-08 10:00", outage_mult=20.0, outage_min=240)
    d = candidate.detect_series(s)
    week_later = d["2024-01-15 10:00":"2024-01-15 14:00"]
    normal = d["2024-01-14 10:00":"2024-01-14 14:00"]
    assert week_later["expected"].mean() < 1.5 * normal["expected"].mean()
