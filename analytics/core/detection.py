"""Outage detection core: fast vectorised scoring + causal batch runner.

Evidence at time t, for each trailing window length W in config.windows_minutes:

    S = sum of counts over the last W minutes,  M = sum of expected counts,
    evidence_W = -log10 P(X >= S),  X ~ NegBin(mean=M, alpha_W from the fit)

A window is "strong" when evidence_W >= problems_evidence AND S - M >= min_excess
AND S >= min_ratio * M (significance alone would fire on tiny relative bumps of
huge series; excess alone would fire on ten reports in a quiet hour). Levels:

    problems (2): some window strong for the last `problems_minutes`
    possible (1): some window moderate (possible_evidence / min_excess_possible)
                  for the last `possible_minutes`
    normal   (0): otherwise, and always before `min_history_minutes` of history.

Scoring is stateless: the live tick (analytics.tick) fits nothing and passes
its last window of counts and the expected values of the profiles in force to
`score_arrays`, and gets exactly the decision the batch runner `detect_frame`
makes, because both end in `score_arrays` on the same trailing sums.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .baseline import DetectorConfig, Profile, fit_arrays, infer_step_minutes, nb_log10_sf, time_slots
from .levels import NORMAL, POSSIBLE, PROBLEMS
from .slices import TOTAL, split_key

# Tremor: 1-minute report buckets, 0-20 reports/min per service, slices less.
# - refits every 6 hours (00, 06, 12, 18 UTC): a replay of weeks of ~80 slices
#   takes seconds, and the level still follows a Monday after a quiet weekend;
# - on the 5-minute window a slice must reach 8x its usual level (and 12
#   reports of excess): one country's noisy quarter-hour or a micro-burst
#   stays below, an outage's first minutes in its error code do not; the
#   30-minute window keeps the 1.5x bar, so a doubling of a busy hour counts;
# - a new slice is blind for 2 days and then, until 3 days, must exceed its
#   baseline 4-fold: its first mornings look like spikes to a young profile.
# Tuned on the scenario generator's two reference events (seed 0) and their
# quiet weeks; checked on other seeds (bench/reference_events.py) and the unit
# tests' synthetic series.
TREMOR_CONFIG = DetectorConfig(
    refit_minutes=360.0,
    min_excess=12.0,
    window_min_ratios=(8.0, 1.5),
    problems_evidence=6.5,
    problems_minutes=2.0,
    min_history_minutes=2 * 1440.0,
    young_history_days=3.0,
    # Each series' own tail sets its evidence bars (analytics.core.baseline,
    # `calibrate`): a series that bursts every day is not "problems" every day.
    calibrate=True,
    # What the same weekday and hour did in the history is evidence of normal
    # (a Monday-morning surge): analytics.core.baseline, `weekly_prior`.
    weekly_prior=1.0,
    # An outage in the history does not lift what follows: the first outlier
    # mask compares rows with a typical day (analytics.core.baseline), and a long
    # outage's fading tail is not split into phases (analytics.core.lifecycle,
    # `recovery_share`). robust_level stays off: it lost the 14 Feb outage's
    # "EU only" scope.
)


def rows_in(minutes: float, step_minutes: float) -> int:
    """Rows of a `step_minutes` series that span `minutes` (at least one): durations are in time, not rows."""
    return max(1, int(math.ceil(minutes / step_minutes - 1e-9)))


def _trailing_sums(x: np.ndarray, rows: int) -> np.ndarray:
    """Trailing sums along the last axis (partial sums at the start)."""
    c = np.cumsum(x, axis=-1)
    out = c.copy()
    out[..., rows:] = c[..., rows:] - c[..., :-rows]
    return out


def _sustained(flag: np.ndarray, rows: int) -> np.ndarray:
    """True where `flag` held on each of the last `rows` positions (last axis)."""
    return _trailing_sums(flag.astype(np.int64), rows) >= rows


def _window_flags(
    counts: np.ndarray,
    expected: np.ndarray,
    alpha: np.ndarray,
    config: DetectorConfig,
    step: float,
    min_ratio: np.ndarray | float | None = None,
    shift: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per position: (evidence, strong, moderate). alpha and `shift` have a leading window axis.

    `min_ratio` may vary per position (young series need a larger ratio);
    `shift` raises the evidence bars per window and position (calibration,
    analytics.core.baseline); the evidence returned is net of it.
    """
    ratio = config.min_ratio if min_ratio is None else min_ratio
    evidence = np.zeros(counts.shape)
    strong = np.zeros(counts.shape, dtype=bool)
    moderate = np.zeros(counts.shape, dtype=bool)
    for k, wmin in enumerate(config.windows_minutes):
        rows = rows_in(wmin, step)
        s = _trailing_sums(counts, rows)
        m = _trailing_sums(expected, rows)
        ev = nb_log10_sf(s, m, alpha[k])
        if shift is not None:
            ev = np.maximum(ev - shift[k], 0.0)
        excess = s - m
        floor = config.window_min_ratios[k] if config.window_min_ratios else 0.0
        ratio_ok = s >= np.maximum(ratio, floor) * m
        evidence = np.maximum(evidence, np.where(ratio_ok, ev, 0.0))
        strong |= ratio_ok & (ev >= config.problems_evidence) & (excess >= config.min_excess)
        moderate |= ratio_ok & (ev >= config.possible_evidence) & (excess >= config.min_excess_possible)
    return evidence, strong, moderate


def _levels(strong: np.ndarray, moderate: np.ndarray, config: DetectorConfig, step: float) -> np.ndarray:
    problems = _sustained(strong, rows_in(config.problems_minutes, step))
    possible = _sustained(moderate | strong, rows_in(config.possible_minutes, step))
    return np.where(problems, PROBLEMS, np.where(possible, POSSIBLE, NORMAL)).astype(np.int8)


def _upper_band(expected: np.ndarray, alpha: np.ndarray, q: float) -> np.ndarray:
    """Per-step NB quantile, for plotting."""
    r = 1.0 / np.maximum(alpha, 1e-6)
    return np.nan_to_num(stats.nbinom.ppf(q, r, r / (r + np.maximum(expected, 1e-12))))


@dataclass(frozen=True)
class FrameResult:
    """Batch output for many series: (n_series, T) arrays over the frame's rows."""

    index: pd.DatetimeIndex
    keys: list[str]
    counts: np.ndarray
    expected: np.ndarray
    upper: np.ndarray
    evidence: np.ndarray
    level: np.ndarray  # int8 0/1/2
    elevated: np.ndarray  # bool: the shortest window is above its band ("possible" strength)
    alpha: np.ndarray  # (n_windows, n_series, T)


@dataclass(frozen=True)
class FitBuckets:
    """One series summed into fit_step buckets, anchored at its first row."""

    counts: np.ndarray
    tod: np.ndarray
    dow: np.ndarray
    start: np.ndarray  # minutes since the series' first row
    fit_step: float


def fit_buckets(counts: np.ndarray, minutes: np.ndarray, tod: np.ndarray, dow: np.ndarray, *,
                config: DetectorConfig, step: float) -> FitBuckets:  # fmt: skip
    # Fewer rows to fit, and a bucket is complete before any refit point.
    n = len(counts)
    agg = max(1, int(round(config.fit_step_minutes / step)))
    fit_step = agg * step
    bucket = (minutes // fit_step).astype(np.int64)
    sums = np.bincount(bucket, counts)
    first_row = np.searchsorted(bucket, np.arange(len(sums)))
    b_n = np.bincount(bucket, minlength=len(sums))
    return FitBuckets(
        counts=np.where(b_n > 0, sums * agg / np.maximum(b_n, 1), np.nan),  # fill partial buckets
        tod=tod[np.minimum(first_row, n - 1)],
        dow=dow[np.minimum(first_row, n - 1)],
        start=np.arange(len(sums)) * fit_step,
        fit_step=fit_step,
    )


def fit_at(b: FitBuckets, t_fit: float, *, config: DetectorConfig) -> Profile:
    """The profile at refit point `t_fit` (minutes since the first row), from buckets ending by then.

    The batch runner and the live fit job both call this, so a live profile
    equals the one a replay computes for the same minute.
    """
    b_end = np.searchsorted(b.start + b.fit_step, t_fit, side="right")  # buckets ending <= t_fit
    b_beg = np.searchsorted(b.start, t_fit - config.history_days * 1440.0)
    sl = slice(b_beg, b_end)
    return fit_arrays(b.counts[sl], b.tod[sl], b.dow[sl], t_fit - b.start[sl], config=config, step_minutes=b.fit_step)


def evidence_shift(prof: Profile, config: DetectorConfig) -> np.ndarray:
    """(n_windows,) calibration shift of the evidence bars for rows scored with this profile."""
    if prof.evidence_shift is None:
        return np.zeros(len(config.windows_minutes))
    return prof.evidence_shift


def profile_flags(prof: Profile, fit_step: float, config: DetectorConfig) -> tuple[bool, float]:
    """(warm, min_ratio) for rows scored with this profile."""
    history = prof.n_history * fit_step
    warm = history < config.min_history_minutes
    young = history < config.young_history_days * 1440.0
    return warm, config.young_min_ratio if young else config.min_ratio


def _fit_series(
    counts: np.ndarray, minutes: np.ndarray, tod: np.ndarray, dow: np.ndarray, *,
    config: DetectorConfig, step: float, refit: float, first_fit: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Expected, alpha and shift (n_windows, T), warm-up mask and min ratio of one series, refitting on the grid."""
    n = len(counts)
    b = fit_buckets(counts, minutes, tod, dow, config=config, step=step)
    expected = np.zeros(n)
    alpha = np.full((len(config.windows_minutes), n), config.max_dispersion)
    shift = np.zeros((len(config.windows_minutes), n))
    warm = np.ones(n, dtype=bool)
    ratio = np.full(n, config.min_ratio)
    for k in range(first_fit, int(minutes[-1] // refit) + 1):
        t_fit = k * refit
        rows = slice(np.searchsorted(minutes, t_fit), np.searchsorted(minutes, t_fit + refit))
        prof = fit_at(b, t_fit, config=config)
        expected[rows] = prof.expected_for_slots(tod[rows], dow[rows], step)
        alpha[:, rows] = prof.alpha[:, None]
        shift[:, rows] = evidence_shift(prof, config)[:, None]
        warm[rows], ratio[rows] = profile_flags(prof, b.fit_step, config)
    return expected, alpha, shift, warm, ratio


def detect_frame(
    frame: pd.DataFrame,
    *,
    config: DetectorConfig = TREMOR_CONFIG,
    refit_every: pd.Timedelta | str | None = None,
    since: pd.Timestamp | None = None,
    with_upper: bool = True,
) -> FrameResult:
    """Causal replay of many series (columns of `frame`): what live operation would have said.

    Each column's profile is refitted every `refit_every` (default
    config.refit_minutes) on a grid anchored at the first timestamp, each time
    from rows strictly before the refit point, so truncating the input never
    changes earlier rows. Rows before `since` serve as history only: they get
    no fit (expected 0, level 0), which saves the fits nobody reads.
    """
    frame = frame.sort_index()
    idx = pd.DatetimeIndex(frame.index)
    keys = [str(c) for c in frame.columns]
    counts = np.nan_to_num(np.clip(frame.to_numpy(float).T, 0, None)).reshape(len(keys), len(idx))
    n_win = len(config.windows_minutes)
    if len(idx) == 0 or not keys:
        empty = np.zeros((len(keys), len(idx)))
        return FrameResult(idx, keys, counts, empty, empty, empty, empty.astype(np.int8), empty.astype(bool),
                           np.zeros((n_win, len(keys), len(idx))))  # fmt: skip
    step = infer_step_minutes(idx, config.step_minutes)
    ns = idx.as_unit("ns").asi8  # pandas 3 may store s/us resolution: normalise
    minutes = (ns - ns[0]) / 6e10  # minutes since start
    tod, dow = time_slots(idx, config.slot_minutes)
    refit = (pd.Timedelta(refit_every) / pd.Timedelta(minutes=1)) if refit_every is not None else config.refit_minutes
    refit = max(refit, max(1, int(round(config.fit_step_minutes / step))) * step)
    first_fit = 0 if since is None else int(max(0.0, (pd.Timestamp(since) - idx[0]) / pd.Timedelta(minutes=1)) // refit)

    expected = np.zeros(counts.shape)
    alpha = np.zeros((n_win, *counts.shape))
    shift = np.zeros((n_win, *counts.shape))
    warm = np.zeros(counts.shape, dtype=bool)
    ratio = np.zeros(counts.shape)
    for i in range(len(keys)):
        expected[i], alpha[:, i], shift[:, i], warm[i], ratio[i] = _fit_series(
            counts[i], minutes, tod, dow, config=config, step=step, refit=refit, first_fit=first_fit
        )
    return score_arrays(idx, keys, counts, expected, alpha, warm, ratio, config, step, with_upper=with_upper,
                        shift=shift)  # fmt: skip


def _parents(key: str) -> list[str]:
    """The slices that hold every report of `key`: the total, and for a region x code cross its region and code."""
    if key == TOTAL:
        return []
    dimension, value = split_key(key)
    if dimension == "region_code":
        region, _, code = value.partition("|")
        return [TOTAL, f"region:{region}", f"code:{code}"]
    return [TOTAL]


def inherit_dispersion(keys: list[str], alpha: np.ndarray) -> np.ndarray:
    """Each slice's dispersion, at least that of the slices holding it: (n_windows, n_series, T) -> same.

    A slice's reports are a share of its parent's, and a thinned count keeps
    its parent's relative variance (alpha). A sparse slice's own estimate
    cannot see it under the Poisson noise (it falls to the floor), so a
    country's noisy quarter-hour split by code looked extreme in each part.
    """
    where = {key: i for i, key in enumerate(keys)}
    out = alpha.copy()
    for i, key in enumerate(keys):
        for parent in _parents(key):
            if (j := where.get(parent)) is not None:
                np.maximum(out[:, i], alpha[:, j], out=out[:, i])
    return out


def score_arrays(
    idx: pd.DatetimeIndex, keys: list[str], counts: np.ndarray, expected: np.ndarray, alpha: np.ndarray,
    warm: np.ndarray, ratio: np.ndarray, config: DetectorConfig, step: float, with_upper: bool = True,
    shift: np.ndarray | None = None,
) -> FrameResult:  # fmt: skip
    """Levels, evidence and the short-window "elevated" flag from fitted expectations.

    `shift` (n_windows, n_series, T): the calibration's rise of the evidence bars (None: 0).
    """
    alpha = inherit_dispersion(keys, alpha)
    ev, strong, moderate = _window_flags(counts, expected, alpha, config, step, ratio, shift)
    # A window that reaches back into warm-up rows compares counts with no real
    # baseline: blind until the longest window has left the warm-up behind.
    longest = max(rows_in(w, step) for w in config.windows_minutes)
    warm = _trailing_sums(warm.astype(np.int64), longest) > 0
    strong[warm] = False
    moderate[warm] = False
    level = _levels(strong, moderate, config, step)
    ev = np.where(warm, 0.0, ev)
    rows = rows_in(config.windows_minutes[0], step)
    s, m = _trailing_sums(counts, rows), _trailing_sums(expected, rows)
    elevated = (
        ~warm
        & (s >= ratio * m)
        & (s - m >= config.min_excess_possible)
        & (nb_log10_sf(s, m, alpha[0]) >= config.possible_evidence + (0.0 if shift is None else shift[0]))
    )
    # The band is for charts; the live tick has no use for it (and it is the costly part).
    upper = _upper_band(expected, alpha[0], config.upper_quantile) if with_upper else np.zeros(expected.shape)
    return FrameResult(idx, keys, counts, expected, upper, ev, level, elevated, alpha)


def detect_series(
    series: pd.Series,
    *,
    config: DetectorConfig = TREMOR_CONFIG,
    refit_every: pd.Timedelta | str | None = None,
) -> pd.DataFrame:
    """One series through `detect_frame`: columns count, expected, upper, evidence, level (int 0/1/2)."""
    cols = ["count", "expected", "upper", "evidence", "level"]
    if len(series) == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols}, index=series.index).astype({"level": np.int8})
    series = series.sort_index()
    result = detect_frame(series.to_frame("x"), config=config, refit_every=refit_every)
    return pd.DataFrame(
        {
            "count": result.counts[0],
            "expected": result.expected[0],
            "upper": result.upper[0],
            "evidence": result.evidence[0],
            "level": result.level[0],
        },
        index=series.index,
    )
