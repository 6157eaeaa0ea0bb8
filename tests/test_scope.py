"""Incident scope attribution on the reference scenarios and small hand-made
cases (plain pytest, no database)."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.core.scope import (
    baseline_counts,
    expected_from_shares,
    incident_scope,
    is_regional,
    window_counts,
)
from demo import scenarios as sc

FEB14_FEATURES = {"sentinel-mode", "honk-flash", "scheduling", "remote-unlock", "climate"}


def _attribute(df: pd.DataFrame, key: str):
    """Observed counts in the event window vs the same window's mean over the previous 14 days."""
    e = sc.EVENTS[key]
    observed = window_counts(df, e["onset"], e["end"])
    expected = baseline_counts(df, e["onset"], e["end"], days=14)
    return observed, expected, *incident_scope(observed, expected)


@pytest.fixture(scope="module")
def feb14():
    return _attribute(sc.event_2023_02_14(seed=0), "2023-02-14")


@pytest.fixture(scope="module")
def nov19():
    return _attribute(sc.event_2021_11_19(seed=0), "2021-11-19")


# --- reference events ---------------------------------------------------------


def test_feb14_scope_is_eu_503_remote_controls(feb14) -> None:
    _, expected, scope, shares = feb14
    assert scope["regions"] == ["EU"]
    assert scope["codes"] == ["503"]
    assert set(scope["features"]) == FEB14_FEATURES
    assert "supercharging" not in scope["features"]
    assert "CN" not in scope["countries"]
    assert set(scope["countries"]) <= set(sc.EVENTS["2023-02-14"]["scope"]["countries"])
    assert {"DE", "GB", "NO"} <= set(scope["countries"])  # the biggest EU fleets
    assert is_regional(scope) and is_regional(scope, expected["regions"])


def test_feb14_shares_are_consistent(feb14) -> None:
    _, _, scope, shares = feb14
    for dim, values in scope.items():
        assert list(shares[dim]) == values  # same values, same order
        assert list(shares[dim].values()) == sorted(shares[dim].values(), reverse=True)
    assert shares["regions"]["EU"] > 90
    assert 95 <= sum(shares["features"].values()) <= 100.1


def test_nov19_scope_is_worldwide_500(nov19) -> None:
    _, expected, scope, shares = nov19
    assert set(scope["regions"]) == {"NA", "EU", "APAC"}
    assert scope["regions"][0] == "NA"  # biggest share of the excess
    assert scope["codes"] == ["500"]
    assert set(scope["features"]) == {"remote-unlock", "location"}
    assert not {"CN", "JP", "MX", "BR", "AE", "ZA"} & set(scope["countries"])
    assert "US" in scope["countries"]
    assert not is_regional(scope, expected["regions"])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reference_scopes_hold_across_seeds(seed: int) -> None:
    _, _, feb, _ = _attribute(sc.event_2023_02_14(seed=seed), "2023-02-14")
    assert feb["regions"] == ["EU"] and feb["codes"] == ["503"]
    assert set(feb["features"]) == FEB14_FEATURES
    _, _, nov, _ = _attribute(sc.event_2021_11_19(seed=seed), "2021-11-19")
    assert set(nov["regions"]) == {"NA", "EU", "APAC"} and nov["codes"] == ["500"]
    assert set(nov["features"]) == {"remote-unlock", "location"}


def test_expectation_from_background_without_overlay() -> None:
    # Same seed, background alone: the ideal expectation; the scope must not change.
    e = sc.EVENTS["2023-02-14"]
    bg_seed, _ = sc.child_seeds(0)
    bg = sc.background(service="tesla", start=e["history_start"], end=e["history_end"], seed=bg_seed)
    observed = window_counts(sc.event_2023_02_14(seed=0), e["onset"], e["end"])
    scope, shares = incident_scope(observed, window_counts(bg, e["onset"], e["end"]))
    assert scope["regions"] == ["EU"] and scope["codes"] == ["503"]
    assert set(scope["features"]) == FEB14_FEATURES
    assert shares["codes"]["503"] == 100.0  # exactly the overlay is excess


def test_window_counts_can_derive_regions() -> None:
    df = sc.outage_2021_11_19(seed=0).drop(columns="region")
    counts = window_counts(df, "2021-11-19T21:00Z", "2021-11-20T03:00Z", region_of=sc.COUNTRY_REGION.__getitem__)
    assert set(counts["regions"].index) == {"NA", "EU", "APAC"}
    assert counts["regions"].sum() == len(df)


def test_baseline_uses_only_covered_days() -> None:
    e = sc.EVENTS["2023-02-14"]
    df = sc.background(service="tesla", start="2023-02-11", end="2023-02-15", seed=0)
    short = baseline_counts(df, e["onset"], e["end"], days=14)  # only 3 days of history exist
    per_day = [window_counts(df, e["onset"] - pd.Timedelta(days=k), e["end"] - pd.Timedelta(days=k)) for k in (1, 2, 3)]
    assert short["codes"]["none"] == pytest.approx(sum(d["codes"]["none"] for d in per_day) / 3)


# --- hand-made cases ------------------------------------------------------------


def S(**counts: float) -> pd.Series:
    return pd.Series(counts, dtype=float)


def test_value_at_usual_level_is_excluded() -> None:
    observed = {"features": S(climate=400, supercharging=100, other=52)}
    expected = {"features": S(climate=100, supercharging=100, other=50)}
    scope, shares = incident_scope(observed, expected)
    assert scope["features"] == ["climate"]
    assert shares["features"] == {"climate": pytest.approx(99.3, abs=0.1)}


def test_shares_sum_to_100_when_all_excess_in_scope() -> None:
    observed = {"regions": S(EU=900, NA=450, APAC=150)}
    expected = {"regions": S(EU=100, NA=50, APAC=50)}
    scope, shares = incident_scope(observed, expected)
    assert scope["regions"] == ["EU", "NA", "APAC"]
    assert shares["regions"] == {"EU": 61.5, "NA": 30.8, "APAC": 7.7}
    assert sum(shares["regions"].values()) == pytest.approx(100, abs=0.2)


def test_material_but_not_significant_is_excluded() -> None:
    # NA carries a big share of a small excess, but it is within its own noise.
    observed = {"regions": S(EU=130, NA=1030)}
    expected = {"regions": S(EU=100, NA=1000)}
    scope, _ = incident_scope(observed, expected)
    assert scope["regions"] == []


def test_significant_but_immaterial_is_excluded() -> None:
    observed = {"countries": S(DE=5000, LU=30)}
    expected = {"countries": S(DE=100, LU=1)}
    scope, shares = incident_scope(observed, expected)
    assert scope["countries"] == ["DE"]
    assert incident_scope(observed, expected, min_share=0.001)[0]["countries"] == ["DE", "LU"]


def test_normally_absent_value_needs_more_than_a_couple_of_reports() -> None:
    expected = {"codes": S(none=10)}
    assert incident_scope({"codes": S(none=10, **{"418": 2})}, expected)[0]["codes"] == []
    assert incident_scope({"codes": S(none=10, **{"418": 30})}, expected)[0]["codes"] == ["418"]


def test_no_excess_and_missing_expectation_give_empty_scope() -> None:
    scope, shares = incident_scope({"codes": S(none=10), "features": S(climate=50)}, {"codes": S(none=20)})
    assert scope == {"codes": [], "features": []}
    assert shares == {"codes": {}, "features": {}}


def test_expected_from_usual_shares() -> None:
    exp = expected_from_shares(S(EU=3, NA=6, APAC=1), total=200)
    assert exp.to_dict() == {"EU": 60, "NA": 120, "APAC": 20}
    scope, _ = incident_scope({"regions": S(EU=600, NA=125, APAC=18)}, {"regions": exp})
    assert scope["regions"] == ["EU"]


def test_is_regional() -> None:
    usual = S(NA=0.5, EU=0.33, APAC=0.12, LATAM=0.03, MEA=0.02)
    assert is_regional({"regions": ["EU"]}, usual)
    assert not is_regional({"regions": ["NA", "EU", "APAC"]}, usual)
    assert is_regional({"regions": ["NA", "LATAM"]}, usual)
    assert not is_regional({"regions": []}, usual)
    # Without usual volumes only a single-region scope counts as regional.
    assert is_regional({"regions": ["EU"]})
    assert not is_regional({"regions": ["EU", "NA"]})
