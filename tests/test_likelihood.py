"""Anomaly-likelihood flag layer (research.likelihood) and its NAB wiring.

Pure numpy/pandas, no database.
"""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pandas as pd
import pytest

from analytics.core.detection import DetectorConfig
from research.config import NAB_CONFIG, NabConfig
from research.likelihood import anomaly_likelihood, prominence, refractory_flags
from research.nab import detection_to_flags

KW = dict(cap=30.0, short_rows=12, long_rows=2000, min_rows=288)


def noisy_evidence(n: int, seed: int, scale: float) -> np.ndarray:
    return np.random.default_rng(seed).exponential(scale, n)


def test_truncation_never_changes_earlier_values():
    ev = noisy_evidence(3000, 1, 2.0)
    ev[2500:2530] = 25.0
    full = anomaly_likelihood(ev, **KW)
    for cut in (300, 1234, 2510, 2999):
        np.testing.assert_allclose(anomaly_likelihood(ev[:cut], **KW), full[:cut], rtol=0, atol=1e-9)


def test_nothing_before_min_rows_of_history():
    lik = anomaly_likelihood(np.full(1000, 50.0), **KW)
    assert (lik[: KW["min_rows"] + KW["short_rows"] - 1] == 0).all()


def test_same_burst_is_less_unusual_in_a_series_that_bursts_often():
    calm, busy = noisy_evidence(3000, 2, 0.5), noisy_evidence(3000, 3, 4.0)
    calm[2800:2812] = busy[2800:2812] = 12.0
    lik = anomaly_likelihood(np.stack([calm, busy]), **KW)  # vectorised over series
    assert lik[0, 2811] > 5 > lik[1, 2811]
    assert lik[0, :2800].max() < 5  # the calm series was quiet until then


def test_refractory_flags_one_flag_per_episode():
    trig = np.zeros(100, bool)
    trig[[5, 6, 7, 20, 40, 41, 90]] = True
    assert refractory_flags(trig, 30).tolist() == [5, 40, 90]


def test_the_benchmark_flag_knobs_are_not_detector_knobs():
    # The profile store's version hashes DetectorConfig: a NAB flag knob must not be part of it.
    flag_knobs = {f.name for f in fields(NabConfig)} - {"detector"}
    assert flag_knobs and not flag_knobs & {f.name for f in fields(DetectorConfig)}
    assert NAB_CONFIG.flag_source == "likelihood" and NAB_CONFIG.prominence_minutes > 0


def test_nab_flags_respect_warm_up_and_rearm():
    idx = pd.date_range("2015-03-01", periods=3000, freq="5min")
    ev = noisy_evidence(3000, 4, 1.0)
    # 400 is inside the 750-row warm-up; 1000 is within 36 h (432 rows) of 800.
    for start in (400, 800, 1000, 1500, 2600):
        ev[start : start + 24] = 30.0
    counts = np.random.default_rng(5).poisson(10.0, 3000).astype(float)
    for k, start in enumerate((400, 800, 1000, 1500, 2600)):
        # Each burst twice the last: a repeat of an earlier burst's size is no
        # longer prominent (prominence gate), and that is not what this tests.
        counts[start : start + 24] = 100.0 * 2**k
    det = pd.DataFrame({"count": counts, "evidence": ev, "level": np.zeros(3000, np.int8)}, index=idx)
    flags = detection_to_flags(det, NAB_CONFIG).tolist()
    assert len(flags) == 3
    for flag, start in zip(flags, (800, 1500, 2600), strict=True):
        assert start <= flag < start + 24  # within the 2-hour short window of the onset
    with pytest.raises(ValueError):
        detection_to_flags(det, replace(NAB_CONFIG, flag_source="nope"))


PROM = dict(window_rows=3, quantile=0.995, every_minutes=120.0, history_minutes=56 * 1440.0, min_minutes=1440.0)


def daily_peaks(n: int, seed: int, peak: float) -> np.ndarray:
    """5-minute counts around 10 with a one-hour daily peak of `peak` times that."""
    rate = np.full(n, 10.0)
    rate[(np.arange(n) % 288) // 12 == 18] *= peak
    return np.random.default_rng(seed).poisson(rate).astype(float)


def test_prominence_truncation_never_changes_earlier_values():
    counts = daily_peaks(3000, 6, 3.0)
    counts[2500:2510] = 400.0
    minutes = np.arange(3000) * 5.0
    full = prominence(counts, minutes, **PROM)
    for cut in (300, 1234, 2505, 2999):
        np.testing.assert_allclose(prominence(counts[:cut], minutes[:cut], **PROM), full[:cut], rtol=0, atol=1e-12)
    assert (full[:288] == 0).all()  # no history yet


def test_routine_daily_peaks_are_not_prominent_but_a_larger_burst_is():
    counts = daily_peaks(3000, 7, 3.0)
    counts[2700:2706] = 150.0  # 5x the daily peak
    prom = prominence(counts, np.arange(3000) * 5.0, **PROM)
    assert prom[600:2700].max() < NAB_CONFIG.prominence_ratio
    assert prom[2702] > 2 * NAB_CONFIG.prominence_ratio


def test_nab_likelihood_without_count_prominence_does_not_flag():
    idx = pd.date_range("2015-03-01", periods=3000, freq="5min")
    ev = noisy_evidence(3000, 8, 1.0)
    ev[1500:1524] = 30.0  # surprising for the baseline ...
    counts = daily_peaks(3000, 9, 3.0)  # ... but no bigger than the series' daily peaks
    det = pd.DataFrame({"count": counts, "evidence": ev, "level": np.zeros(3000, np.int8)}, index=idx)
    assert detection_to_flags(det, NAB_CONFIG).tolist() == []
    assert len(detection_to_flags(det, replace(NAB_CONFIG, prominence_minutes=0.0))) == 1
