"""NAB scorer: anchor check against published twitterADVec results + hand cases.

Plain pytest, no database (runs with `pytest -p no:django`).
"""

from __future__ import annotations

import json
import math
import os

import pandas as pd
import pytest

from research.nab import (
    FileScore,
    load_series,
    load_windows,
    normalised_scores,
    probation_rows,
    score_all_profiles,
    score_flags,
)
from tests.support.nab import ANCHORS, DATA, WINDOWS, require_nab


def S(x: float) -> float:
    return -1.0 if x > 3 else 2 / (1 + math.exp(5 * x)) - 1


# 1000 rows of 5 minutes: probation = 150 rows; one window on rows 200..299.
IDX = pd.date_range("2015-01-01", periods=1000, freq="5min")
WIN = [(IDX[200], IDX[299])]


def raw(flags_rows, profile="standard", windows=WIN):
    return score_flags(IDX, windows, [IDX[i] for i in flags_rows], profile)


def test_probation_rule_matches_nab():
    assert probation_rows(1000) == 150
    assert probation_rows(15902) == 750  # capped at 0.15 * 5000
    assert probation_rows(10) == 1


def test_flag_at_left_edge_earns_full_tp():
    assert raw([200]).score == pytest.approx(1.0)
    assert raw([200]).tp == 1


def test_missed_window_costs_fn():
    assert raw([]).score == pytest.approx(-1.0)
    assert raw([], "reward_low_FN_rate").score == pytest.approx(-2.0)


def test_flag_in_probation_is_ignored():
    r = raw([100])
    assert r.score == pytest.approx(-1.0) and r.fp == 0


def test_fp_before_any_window_costs_full_fp():
    assert raw([160]).score == pytest.approx(-1.0 - 0.11)
    assert raw([160], "reward_low_FP_rate").score == pytest.approx(-1.0 - 0.22)


def test_only_earliest_flag_in_window_counts():
    expected = S(-(299 - 210 + 1) / 100) / S(-1)
    assert raw([250, 210, 290]).score == pytest.approx(expected)
    assert 0.9 < expected < 1.0


def test_right_edge_earns_about_zero():
    assert abs(raw([299]).score) < 0.1


def test_fp_after_window_is_discounted_by_distance():
    near = raw([200, 320]).score - 1.0
    assert near == pytest.approx(0.11 * S((320 - 299) / 99))
    far = raw([200, 800]).score - 1.0
    assert far == pytest.approx(-0.11)
    assert near > far  # a flag just after a window costs less


def test_normalised_scores_null_and_perfect():
    perfect = {"a": score_all_profiles(IDX, WIN, [IDX[200]])}
    null = {"a": score_all_profiles(IDX, WIN, [])}
    assert normalised_scores(perfect)["standard"] == pytest.approx(100.0)
    assert normalised_scores(null)["reward_low_FN_rate"] == pytest.approx(0.0)


def test_twitter_advec_anchor_reproduced_exactly():
    require_nab(DATA, WINDOWS, ANCHORS)
    windows = load_windows(str(WINDOWS))
    with open(ANCHORS) as fh:
        flags = json.load(fh)
    results = {}
    for name, fl in flags.items():
        s = load_series(os.path.join(DATA, name))
        results[name] = score_all_profiles(s.index, windows[name], fl)
    norm = normalised_scores(results)
    assert round(norm["standard"], 2) == 61.45
    assert round(norm["reward_low_FP_rate"], 2) == 37.16
    assert round(norm["reward_low_FN_rate"], 2) == 71.13
    assert isinstance(next(iter(results.values()))["standard"], FileScore)
