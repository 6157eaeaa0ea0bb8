"""Incident scope attribution: which regions, countries, codes and features
carry an incident's excess reports.

A value is *in scope* when it carries a material part of the excess AND is
significantly above its own expectation. Both are needed: share alone would
put the US in scope of every incident (it always has the most reports), and
significance alone would pick up a small country that happens to be noisy.
Values that merely keep their usual volume during the incident (supercharging
during the 14 Feb 2023 EU outage, China during anything) fail both.

Pure pandas, no Django: the inputs are counts per value over the incident
window and the expected counts for the same window from the baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

import numpy as np
import pandas as pd

from .lifecycle import IncidentState
from .slices import SCOPE_DIMENSIONS, split_key

# Scope dimension -> report column it is counted from.
DIMENSIONS: dict[str, str] = {
    "regions": "region",
    "countries": "country",
    "codes": "code",
    "features": "feature",
}

Counts = Mapping[str, pd.Series]
TimeLike = str | datetime | pd.Timestamp


def _utc(ts: TimeLike) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _with_region(df: pd.DataFrame, region_of: Callable[[str], str] | None) -> pd.DataFrame:
    if "region" in df.columns or region_of is None:
        return df
    return df.assign(region=df["country"].map(region_of))


def window_counts(
    df: pd.DataFrame, start: TimeLike, end: TimeLike, *, region_of: Callable[[str], str] | None = None
) -> dict[str, pd.Series]:
    """Reports per value of each dimension with start <= observed_at < end.

    `region_of` derives a region column from the country when `df` has none
    (e.g. reports.regions.region_for).
    """
    df = _with_region(df, region_of)
    ts = df["observed_at"]
    inside = df[(ts >= _utc(start)) & (ts < _utc(end))]
    return {dim: inside[col].value_counts().astype(float) for dim, col in DIMENSIONS.items() if col in df.columns}


def baseline_counts(
    df: pd.DataFrame, start: TimeLike, end: TimeLike, *, days: int = 14, region_of: Callable[[str], str] | None = None
) -> dict[str, pd.Series]:
    """Expected counts per value for [start, end): the mean over the same
    time-of-day window on each of the previous `days` days.

    Only days fully covered by `df` are averaged, so a short history does not
    dilute the baseline with zeros. Values absent on a day count as 0 that day.
    """
    df = _with_region(df, region_of)
    t0, t1 = _utc(start), _utc(end)
    first = df["observed_at"].min() if len(df) else t0
    lags = [pd.Timedelta(days=k) for k in range(1, days + 1) if t0 - pd.Timedelta(days=k) >= first]
    if not lags:
        return {dim: pd.Series(dtype=float) for dim, col in DIMENSIONS.items() if col in df.columns}
    per_day = [window_counts(df, t0 - lag, t1 - lag) for lag in lags]
    out: dict[str, pd.Series] = {}
    for dim in per_day[0]:
        table = pd.concat([d[dim] for d in per_day], axis=1).fillna(0.0)
        out[dim] = table.sum(axis=1) / len(lags)
    return out


def expected_from_shares(shares: pd.Series, total: float) -> pd.Series:
    """Expected counts per value from its usual share (any scale) and the
    expected total for the window."""
    s = shares.astype(float)
    return s / s.sum() * total if s.sum() > 0 else s * 0.0


def _dimension_scope(
    obs: pd.Series, exp: pd.Series, *, min_share: float, z: float, rel_tol: float, min_excess: float
) -> tuple[list[str], dict[str, float]]:
    idx = obs.index.union(exp.index)
    o = obs.reindex(idx, fill_value=0.0).astype(float)
    e = exp.reindex(idx, fill_value=0.0).astype(float).clip(lower=0.0)
    excess = (o - e).clip(lower=0.0)
    total = float(excess.sum())
    if total <= 0:
        return [], {}
    share = excess / total
    # Poisson noise plus a relative allowance for the baseline itself being
    # imperfect (day-to-day drift, weekday vs weekend); the floor of 1 keeps
    # a value that is normally absent from qualifying on one or two reports.
    noise = np.sqrt(np.maximum(e, 1.0) + (rel_tol * e) ** 2)
    significant = (excess > z * noise) & (excess >= min_excess)
    keep = share[(share >= min_share) & significant]
    # Largest share first; ties broken by name so the output is deterministic.
    ordered = sorted(keep.index, key=lambda v: (-keep[v], str(v)))
    return [str(v) for v in ordered], {str(v): round(100.0 * float(keep[v]), 1) for v in ordered}


def incident_scope(
    observed: Counts,
    expected: Counts,
    *,
    min_share: float = 0.05,
    z: float = 3.0,
    rel_tol: float = 0.15,
    min_excess: float = 3.0,
) -> tuple[dict[str, list[str]], dict[str, dict[str, float]]]:
    """Scope of an incident per dimension ("regions", "countries", "codes", "features").

    observed[dim] / expected[dim]: counts per value over the incident window,
    and what the baseline expects for the same window (use
    `expected_from_shares` when the baseline only knows usual shares).
    Excess per value = max(observed - expected, 0). A value is in scope when:
      * its share of the dimension's total excess >= `min_share`, and
      * its excess > z * sqrt(expected + (rel_tol * expected)^2) and >= `min_excess`.

    Returns (scope, scope_shares): scope[dim] lists in-scope values, largest
    share first; scope_shares[dim][value] is that value's percent of the
    dimension's total excess (1 decimal) -- they sum to ~100 only when all of
    the excess sits in scope. A dimension with no expectation at all is left
    out of attribution (empty), since every report would look like excess.
    """
    scope: dict[str, list[str]] = {}
    shares: dict[str, dict[str, float]] = {}
    for dim, obs in observed.items():
        exp = expected.get(dim)
        if exp is None or obs is None:
            scope[dim], shares[dim] = [], {}
            continue
        scope[dim], shares[dim] = _dimension_scope(
            obs, exp, min_share=min_share, z=z, rel_tol=rel_tol, min_excess=min_excess
        )
    return scope, shares


def is_regional(
    scope: Mapping[str, Iterable[str]],
    usual_regions: pd.Series | Mapping[str, float] | None = None,
    *,
    max_coverage: float = 0.8,
) -> bool:
    """True when the excess is confined to a subset of the regions that
    normally report.

    With `usual_regions` (usual report volume or share per region): regional
    when the in-scope regions normally account for less than `max_coverage`
    of the volume -- an EU-only outage leaves NA and APAC (most of the usual
    volume) untouched, while NA+EU+APAC cover nearly everyone, even if tiny
    LATAM/MEA did not show up. Without it we cannot weigh the unaffected
    regions, so only a single-region scope counts as regional.
    """
    regions = [r for r in scope.get("regions", [])]
    if not regions:
        return False
    if usual_regions is None:
        return len(regions) == 1
    usual = pd.Series(usual_regions, dtype=float).clip(lower=0.0)
    total = float(usual.sum())
    if total <= 0:
        return len(regions) == 1
    covered = float(usual.reindex(regions, fill_value=0.0).sum()) / total
    return covered < max_coverage


def scope_of(state: IncidentState) -> tuple[dict, dict, bool]:
    """(scope, scope_shares, is_regional) from the incident's accumulated slice sums."""
    observed: dict[str, dict[str, float]] = {dim: {} for dim in SCOPE_DIMENSIONS}
    expected: dict[str, dict[str, float]] = {dim: {} for dim in SCOPE_DIMENSIONS}
    by_slice = {slice_dim: dim for dim, slice_dim in SCOPE_DIMENSIONS.items()}
    for key, (obs, exp) in state.sums.items():
        dimension, value = split_key(key)
        if dimension in by_slice:
            observed[by_slice[dimension]][value] = obs
            expected[by_slice[dimension]][value] = exp
    scope, shares = incident_scope(
        {dim: pd.Series(values, dtype=float) for dim, values in observed.items()},
        {dim: pd.Series(values, dtype=float) for dim, values in expected.items()},
    )
    scope = {dim: list(scope.get(dim, [])) for dim in SCOPE_DIMENSIONS}
    return scope, shares, is_regional(scope, pd.Series(expected["regions"], dtype=float))
