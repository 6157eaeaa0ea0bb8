"""Seasonal, outage-robust baselines for count series (the slow "fit" half).

Model of the expected count of one series at time t (per step):

    expected(t) = step * floor_max(level * tod_rate[hour_slot(t)] * dow_factor[weekday(t)]
                                   * week_factor[weekday(t), hour_slot(t)])

* `tod_rate`   time-of-day profile (per minute), exponentially weighted over
               `history_days` with half-life `profile_half_life_days`, shrunk
               towards the series' global rate with `tod_prior_minutes` of
               pseudo-observations (so unseen/quiet hours borrow the global rate).
* `dow_factor` day-of-week multiplier, shrunk towards 1 with `dow_prior_days`
               days' worth of pseudo-counts (weekends differ, but only once
               there is evidence for it).
* `week_factor` hour-of-week shape (a Monday-morning surge, a weekend's own
               shape), >= 1, learnt from the history rows that are not extreme (`weekly_prior`).
* `level`      short-memory multiplier (half-life `level_half_life_days`) that
               follows slow trends; shrunk towards 1 by `level_prior_counts`.

Robustness to old incidents: the fit is iterated; after each pass, rows far
outside the NB band of the current fit (either direction) are masked, together
with `mask_pad_minutes` either side, and the profile is re-estimated from the
remaining rows. An outage in history therefore does not raise the baseline.

Dispersion: a negative-binomial `alpha` (Var = mu + alpha*mu^2) is estimated
for every trailing-window length used by the detector, directly on the window
sums, because counts are autocorrelated and the per-row alpha would understate
the variance of a 30-minute sum. The estimate is robust: alpha is chosen so
that the *median* squared Pearson residual equals that of a chi-square(1)
(0.455), which outages in the unmasked rows barely move.

No Django imports: pure numpy/pandas.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import special, stats


@dataclass(frozen=True)
class DetectorConfig:
    """Every knob of the detector. Durations are in minutes/days, not rows, so the
    same values serve 1-minute Tremor buckets and 5-minute NAB series; only
    `step_minutes` (the series' bucket size) and the count-scale knobs differ.
    """

    step_minutes: float = 1.0  # bucket size of the series being scored
    # --- baseline fit (analytics.core.baseline) ---
    slot_minutes: int = 60  # time-of-day slot width
    history_days: float = 28.0  # history window used by a fit
    profile_half_life_days: float = 14.0  # weight decay of the time-of-day profile
    level_half_life_days: float = 1.0  # memory of the trend/level multiplier
    level_prior_counts: float = 30.0  # shrinks the level towards 1 for sparse series
    level_bounds: tuple[float, float] = (0.2, 5.0)
    tod_prior_minutes: float = 120.0  # pseudo-minutes at the global rate per tod slot
    dow_prior_days: float = 1.0  # pseudo-days at factor 1 per weekday
    min_rate_per_minute: float = 0.01  # floor on the expected rate
    min_dispersion: float = 0.01  # NB alpha bounds (alpha=0 would be Poisson)
    max_dispersion: float = 4.0
    fit_iterations: int = 3  # fit / mask-outliers / refit passes
    mask_evidence: float = 4.0  # -log10 p beyond which a history row is masked
    mask_pad_minutes: float = 60.0  # masked margin around an extreme row
    dispersion_days: float = 7.0  # recent history used to estimate alpha
    dispersion_quantile: float = 0.9  # residual quantile matched to chi2(1) (tail-aware)
    refit_minutes: float = 60.0  # batch runner refits this often
    fit_step_minutes: float = 5.0  # history is summed to this bucket before fitting (speed)
    min_history_minutes: float = 360.0  # no alarms before this much history
    # A young series (less history than this) has no reliable time-of-day
    # profile yet: its morning rise looks like a spike. It must then exceed
    # the baseline by `young_min_ratio` instead of `min_ratio`.
    young_history_days: float = 0.0
    young_min_ratio: float = 4.0
    # --- scoring (analytics.core.detection) ---
    windows_minutes: tuple[float, ...] = (5.0, 30.0)  # trailing sums tested
    possible_evidence: float = 4.0  # -log10 p for "possible"
    problems_evidence: float = 6.5  # -log10 p for "problems"
    possible_minutes: float = 3.0  # "possible" must hold this long
    problems_minutes: float = 2.0  # confirmation for "problems"
    min_excess: float = 10.0  # reports above expected over the window, for "problems"
    min_excess_possible: float = 5.0  # same, for "possible"
    min_ratio: float = 1.5  # observed/expected window sum must also exceed this
    # Per trailing window, a stricter ratio (None: min_ratio for all). A short
    # window sees one country's noisy quarter-hour as much as an outage's first
    # minutes; what sets the outage apart is the multiple of its usual level.
    window_min_ratios: tuple[float, ...] | None = None
    # Only the upper tail is masked (reports never fail downwards). The first
    # mask's outage-robust reference is a typical day in every configuration
    # (`_typical_day`); off in TREMOR_CONFIG (it lost the 14 Feb "EU only" scope).
    robust_level: bool = False
    # Self-calibration of the evidence: the NB tails are right in the bulk, but
    # some series burst far more often than their fitted NB says (tweets, a
    # flaky feature). Each fit finds, in its own history, the episodes of
    # -log10 p >= 3 of each window (runs closer than `calibration_gap_minutes`
    # are one), and models their peaks as an exponential tail (the rate of
    # episodes beyond e falls as 10 ** -(b (e - 3)); b = 1 for calibrated
    # p-values). The median excess gives b, so one real outage among the
    # episodes barely moves it; `calibration_prior_episodes` pseudo-episodes at
    # b = 1 join the median, and `calibration_prior_days` of pseudo-history at
    # the nominal rate the rate. The evidence at which
    # such episodes would come once per `1 / false_episodes_per_day` days is the
    # window's bar, if above `problems_evidence`: the shift raises every bar of
    # that window (never lowers one).
    calibrate: bool = False
    false_episodes_per_day: float = 1e-3
    calibration_gap_minutes: float = 120.0
    calibration_prior_days: float = 7.0
    calibration_prior_episodes: float = 3.0
    # Only a guard against nonsense (p-values are floored at 1e-300): a series
    # whose ordinary bursts reach -log10 p = 80 needs a bar above 80.
    calibration_max_shift: float = 100.0
    # Hour-of-week shape: what happened at the same weekday and hour in the
    # history (a Monday-morning surge, a weekend's other shape) raises that
    # hour's expectation. Per (weekday, slot), the hour's share of its day
    # against the model's share (so trends and quiet days cancel), from the
    # rows the outlier mask found not extreme (an outage in the history teaches nothing),
    # each against the model scaled to its own day, shrunk to 1 as a posterior
    # mean: the observation weighs its precision 1 / (1/E + alpha) against a
    # prior of `weekly_prior` (1 / variance of the factor: 1 = a factor within
    # about 1 +- 1). Only upward: a quiet hour last week must not make this
    # week's ordinary hour look high. None: off.
    weekly_prior: float | None = None
    upper_quantile: float = 0.99  # per-step band returned as `upper`


N_TOD = 24 * 60  # minutes in a day; tod slots are minute_of_day // slot_minutes
_CHI2_1_MEDIAN = 0.4549364231195724


@dataclass(frozen=True)
class Profile:
    """Result of a fit: enough to compute expected counts and NB tails for any time."""

    tod_rate: np.ndarray  # (n_tod_slots,) expected reports per MINUTE, level applied
    dow_factor: np.ndarray  # (7,)
    alpha: np.ndarray  # (len(config.windows_minutes),) NB dispersion per window
    slot_minutes: int
    min_rate: float  # per minute floor
    fitted_at: pd.Timestamp | None = None
    n_history: int = 0  # rows of usable history behind the fit
    level: float = 1.0
    evidence_shift: np.ndarray | None = None  # (n_windows,) added to every evidence bar, None = 0
    week_factor: np.ndarray | None = None  # (7, n_tod_slots) hour-of-week factor >= 1, None = 1

    def expected_for_slots(self, tod: np.ndarray, dow: np.ndarray, step_minutes: float) -> np.ndarray:
        rate = self.tod_rate[tod] * self.dow_factor[dow]
        if self.week_factor is not None:
            rate = rate * self.week_factor[dow, tod]
        return np.maximum(rate, self.min_rate) * step_minutes

    def expected(self, index: pd.DatetimeIndex, step_minutes: float) -> np.ndarray:
        """Expected count per step at each timestamp of `index`."""
        tod, dow = time_slots(index, self.slot_minutes)
        return self.expected_for_slots(tod, dow, step_minutes)


def time_slots(index: pd.DatetimeIndex, slot_minutes: int) -> tuple[np.ndarray, np.ndarray]:
    """(time-of-day slot, weekday) per timestamp, in the index's own wall time."""
    index = pd.DatetimeIndex(index)
    minute = index.hour.to_numpy() * 60 + index.minute.to_numpy()
    return (minute // slot_minutes).astype(np.int64), index.day_of_week.to_numpy().astype(np.int64)


def nb_log10_sf(s: np.ndarray, mean: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """-log10 P(X >= s) for X ~ NB(mean, alpha); 0 where s <= 0 or s <= mean-ish.

    Uses the regularised incomplete beta directly (no scipy.stats overhead):
    P(X >= s) = I_{1-p}(s, r), r = 1/alpha, p = r / (r + mean).
    """
    s, mean, alpha = np.broadcast_arrays(
        np.asarray(s, float), np.maximum(np.asarray(mean, float), 1e-12), np.asarray(alpha, float)
    )
    r = 1.0 / alpha
    q = mean / (r + mean)  # 1 - p
    pos = s > 0
    p = np.ones_like(s)
    p[pos] = special.betainc(s[pos], r[pos], q[pos])
    return -np.log10(np.clip(p, 1e-300, 1.0))


def solve_alpha(obs: np.ndarray, mean: np.ndarray, lo: float, hi: float, q: float = 0.5) -> float:
    """Robust NB dispersion by quantile matching of squared Pearson residuals.

    Finds alpha such that the q-quantile of (obs-mean)^2 / (mean + alpha mean^2)
    equals the chi-square(1) q-quantile. Closed form: a point's ratio exceeds
    the target iff alpha < a_i = ((obs-mean)^2 / target - mean) / mean^2, so the
    solution is the q-quantile of a_i. A high q (e.g. 0.9) respects the heavy
    upper tail of real counts; q < 1 keeps rare incident rows from inflating it.
    """
    ok = np.isfinite(obs) & np.isfinite(mean) & (mean > 0)
    if ok.sum() < 10:
        return hi  # too little data: be conservative (wide band)
    target = _chi2_1_quantile(q)
    m = mean[ok]
    a_i = ((obs[ok] - m) ** 2 / target - m) / (m * m)
    return float(np.clip(_quantile(a_i, q), lo, hi))


@functools.lru_cache(maxsize=8)
def _chi2_1_quantile(q: float) -> float:
    # A scipy ppf call costs more than the rest of solve_alpha; q is a constant of the config.
    return float(stats.chi2.ppf(q, 1)) if q != 0.5 else _CHI2_1_MEDIAN


def _quantile(x: np.ndarray, q: float) -> float:
    """np.quantile(x, q) (linear interpolation) from a partial sort: the same value, a fraction of the time."""
    pos = q * (len(x) - 1)
    k = int(np.floor(pos))
    part = np.partition(x, (k, min(k + 1, len(x) - 1)))
    return float(part[k] + (pos - k) * (part[min(k + 1, len(x) - 1)] - part[k]))


def _extreme_rows(c: np.ndarray, e: np.ndarray, alpha: float, evidence: float, upper_only: bool = False) -> np.ndarray:
    """Rows whose count is beyond -log10 p > evidence in either NB tail.

    A cheap Pearson pre-screen (|z| > 3) picks candidates; only those get the
    exact (slow) incomplete-beta tail, so fitting stays ~1 ms.
    """
    z = (c - e) / np.sqrt(e + alpha * e * e)
    cand = np.flatnonzero((z if upper_only else np.abs(z)) > 3.0)
    out = np.zeros(len(c), dtype=bool)
    if len(cand):
        cc, ee = c[cand], e[cand]
        hi_ev = nb_log10_sf(cc, ee, alpha)
        lo_ev = nb_log10_sf(2 * ee - cc, ee, alpha)  # mirror image as a low-tail proxy
        out[cand] = (hi_ev > evidence) | (~upper_only & (lo_ev > evidence))
    return out


def _rolling_sum(x: np.ndarray, rows: int) -> np.ndarray:
    """Trailing sums of `rows` values; NaN where the window is incomplete or
    touches a NaN (masked) value. NaNs are handled explicitly because a plain
    cumsum would propagate one NaN to every later sum."""
    ok = np.isfinite(x)
    c = np.concatenate([[0.0], np.cumsum(np.where(ok, x, 0.0))])
    k = np.concatenate([[0], np.cumsum(ok)])
    out = np.full(len(x), np.nan)
    if len(x) >= rows:
        full = (k[rows:] - k[:-rows]) == rows
        out[rows - 1 :] = np.where(full, c[rows:] - c[:-rows], np.nan)
    return out


def _dilate(mask: np.ndarray, pad: int) -> np.ndarray:
    """Grow True runs by `pad` rows on both sides."""
    if pad <= 0 or not mask.any():
        return mask
    c = np.concatenate([[0], np.cumsum(mask.astype(np.int64))])
    n = len(mask)
    i = np.arange(n)
    hi = np.minimum(i + pad + 1, n)
    lo = np.maximum(i - pad, 0)
    return (c[hi] - c[lo]) > 0


def fit_arrays(
    counts: np.ndarray,
    tod: np.ndarray,
    dow: np.ndarray,
    age_minutes: np.ndarray,
    *,
    config: DetectorConfig,
    step_minutes: float,
) -> Profile:
    """Fit one series from raw arrays (history rows only, oldest first).

    `age_minutes` is how long before the fit time each row is. NaN counts are
    treated as missing. Used by fit_profile and by the batch runner (which
    precomputes tod/dow once for the whole series).
    """
    cfg = config
    n_tod = N_TOD // cfg.slot_minutes
    counts = np.asarray(counts, float)
    valid = np.isfinite(counts)
    c = np.where(valid, counts, 0.0)
    min_rate = cfg.min_rate_per_minute
    alpha_hi = cfg.max_dispersion
    if valid.sum() == 0:
        return Profile(
            tod_rate=np.full(n_tod, min_rate),
            dow_factor=np.ones(7),
            alpha=np.full(len(cfg.windows_minutes), alpha_hi),
            slot_minutes=cfg.slot_minutes,
            min_rate=min_rate,
            n_history=0,
        )
    w_long = np.exp2(-age_minutes / (cfg.profile_half_life_days * 1440.0))
    w_short = np.exp2(-age_minutes / (cfg.level_half_life_days * 1440.0))
    keep = valid.copy()
    mask_alpha = alpha_hi
    # The rows the hour-of-week factor learns from: the extreme rows out, but not
    # their padding (see _week_factor).
    week_keep = valid
    pad = int(round(cfg.mask_pad_minutes / step_minutes))
    for it in range(cfg.fit_iterations):
        wk = w_long * keep
        # Global rate per minute: prior for quiet / unseen hours of the day.
        g = max((wk * c).sum() / max(wk.sum(), 1e-12) / step_minutes, min_rate)
        if it == 0 and cfg.fit_iterations > 1:
            # The first mask: against a typical day, which an outage does not move.
            e_row = np.maximum(_typical_day(c, valid, tod, dow, n_tod, g * step_minutes), min_rate * step_minutes)
        else:
            tod_rate, dow_factor, level, e_row = _mean_fit(c, wk, w_short * keep, keep, tod, dow, n_tod, g, cfg,
                                                            step_minutes)  # fmt: skip
            if it == cfg.fit_iterations - 1:
                break
        # Mask extreme rows (both tails) so incidents do not shape the baseline.
        row_alpha = solve_alpha(np.where(keep, c, np.nan), e_row, cfg.min_dispersion, alpha_hi)
        mask_alpha = row_alpha
        extreme = valid & _extreme_rows(c, e_row, row_alpha, cfg.mask_evidence, upper_only=cfg.robust_level)
        keep = valid & ~_dilate(extreme, pad)
        week_keep = valid & ~extreme
        if keep.sum() < max(10, 0.2 * valid.sum()):
            keep = week_keep = valid  # masking everything would be worse than not masking

    week = None
    if cfg.weekly_prior is not None:
        week = _week_factor(c, e_row, w_long * week_keep, tod, dow, n_tod, mask_alpha, cfg.weekly_prior)
    # Dispersion per trailing window, on the recent part of the history only.
    recent = age_minutes <= cfg.dispersion_days * 1440.0
    alphas, shifts = [], []
    masked_none = bool((keep == valid).all())
    for wmin in cfg.windows_minutes:
        rows = max(1, int(round(wmin / step_minutes)))
        s_obs = _rolling_sum(np.where(keep, c, np.nan), rows)
        s_exp = _rolling_sum(e_row, rows)
        sel = recent & np.isfinite(s_obs)
        alphas.append(solve_alpha(s_obs[sel], s_exp[sel], cfg.min_dispersion, alpha_hi, cfg.dispersion_quantile))
        if cfg.calibrate:
            # Every valid row: the bursts the outlier mask removed are what the calibration counts.
            s_all = s_obs if masked_none else _rolling_sum(np.where(valid, c, np.nan), rows)
            shifts.append(_evidence_shift(s_all, s_exp, alphas[-1], cfg, step_minutes, max(wmin, step_minutes)))
    return Profile(
        tod_rate=tod_rate * level,
        dow_factor=dow_factor,
        alpha=np.asarray(alphas),
        slot_minutes=cfg.slot_minutes,
        min_rate=min_rate,
        n_history=int(valid.sum()),
        level=level,
        evidence_shift=np.asarray(shifts) if cfg.calibrate else None,
        week_factor=week,
    )


def _mean_fit(c: np.ndarray, wk: np.ndarray, ws: np.ndarray, keep: np.ndarray, tod: np.ndarray, dow: np.ndarray,
              n_tod: int, g: float, cfg: DetectorConfig, step_minutes: float) -> tuple:  # fmt: skip
    """(tod_rate per minute, dow_factor, level, expected per row); `wk`, `ws`: long and short row weights."""
    min_rate = cfg.min_rate_per_minute
    prior_steps = cfg.tod_prior_minutes / step_minutes
    num = np.bincount(tod, wk * c, n_tod) + prior_steps * g * step_minutes
    den = np.bincount(tod, wk, n_tod) + prior_steps
    tod_rate = num / den / step_minutes  # per minute
    e_tod = tod_rate[tod] * step_minutes
    # Day-of-week factor, shrunk to 1 by dow_prior_days of the day's expectation.
    day_expect = tod_rate.sum() * cfg.slot_minutes
    k_dow = cfg.dow_prior_days * day_expect * (wk.sum() / max(keep.sum(), 1))
    dow_factor = (np.bincount(dow, wk * c, 7) + k_dow) / (np.bincount(dow, wk * e_tod, 7) + k_dow)
    e_row = e_tod * dow_factor[dow]
    # Level: recent counts vs the long profile, shrunk to 1.
    level = ((ws * c).sum() + cfg.level_prior_counts) / ((ws * e_row).sum() + cfg.level_prior_counts)
    level = float(np.clip(level, cfg.level_bounds[0], cfg.level_bounds[1]))
    return tod_rate, dow_factor, level, np.maximum(e_row * level, min_rate * step_minutes)


def _typical_day(c: np.ndarray, valid: np.ndarray, tod: np.ndarray, dow: np.ndarray, n_tod: int,
                 fallback: float) -> np.ndarray:  # fmt: skip
    """Per row, the median over calendar days of that day's mean count in the row's time-of-day slot.

    What the first mask compares rows with. The weighted means that follow
    (time of day, weekday, level) were fitted from every row on the first
    pass: a 15-hour outage yesterday raised its weekday's factor to 2x and the
    level to 1.7x, its own rows then looked ordinary and nothing was masked,
    and an hour after it the band still stood 1.6x above its twin's. A median
    over days is not moved by one bad day.
    """
    date = np.concatenate([[0], np.cumsum(np.diff(dow) != 0)])
    cell = date * n_tod + tod
    size = (int(date[-1]) + 1) * n_tod
    sums = np.bincount(cell, np.where(valid, c, 0.0), size).reshape(-1, n_tod)
    rows = np.bincount(cell, valid.astype(float), size).reshape(-1, n_tod)
    per_day = np.sort(np.where(rows > 0, sums / np.maximum(rows, 1.0), np.nan), axis=0)  # NaN sort last
    n = (rows > 0).sum(axis=0)
    cols = np.arange(n_tod)
    lo, hi = np.maximum((n - 1) // 2, 0), np.maximum(n // 2, 0)
    # np.nanmedian, a tenth of a fit's time, as the middle of each column's sorted days.
    median = np.where(n > 0, (per_day[lo, cols] + per_day[hi, cols]) / 2.0, fallback)
    return median[tod]


def _week_factor(c: np.ndarray, e: np.ndarray, w: np.ndarray, tod: np.ndarray, dow: np.ndarray, n_tod: int,
                 alpha: float, prior: float) -> np.ndarray:  # fmt: skip
    """(7, n_tod) hour-of-week factors >= 1 (see DetectorConfig.weekly_prior).

    `w` is zero on the rows the outlier mask found extreme, but not on its
    padding: the pad keeps an outage's shoulders out of the level and the
    time-of-day profile, yet around a weekly surge (2x for three hours under
    heavy noise) it masked the whole surge as soon as a few of its rows crossed
    the mask, so the factor never saw what it is there to learn. An outage's
    own rows are extreme and stay out.

    Each row is compared with the model scaled to its own calendar day (so a
    quiet day or a trend says nothing about the hours' shape). The dispersion
    and the calibration are left on the model without this factor: fitted to
    one or two weeks, it would shrink the in-sample residuals and so
    understate next week's.
    """
    date = np.concatenate([[0], np.cumsum(np.diff(dow) != 0)])
    day = np.bincount(date, w * c) / np.maximum(np.bincount(date, w * e), 1e-12)
    how = dow * n_tod + tod
    obs = np.bincount(how, w * c, 7 * n_tod).reshape(7, n_tod)
    exp = np.bincount(how, w * e * day[date], 7 * n_tod).reshape(7, n_tod)
    ratio = np.where(exp > 0, obs / np.maximum(exp, 1e-12), 1.0)
    weight = np.where(exp > 0, 1.0 / (1.0 / np.maximum(exp, 1e-12) + alpha), 0.0)
    return np.maximum((weight * ratio + prior) / (weight + prior), 1.0)


def _evidence_shift(s_obs: np.ndarray, s_exp: np.ndarray, alpha: float, cfg: DetectorConfig,
                    step_minutes: float, window_minutes: float) -> float:  # fmt: skip
    """How much this window's evidence bars must rise for the series' own tail (see DetectorConfig.calibrate).

    `s_obs`, `s_exp`: the window's sums at each history row (NaN: incomplete),
    rows `step_minutes` apart.
    """
    u = 3.0
    ok = np.flatnonzero(np.isfinite(s_obs))
    days = len(ok) * step_minutes / 1440.0
    obs, exp = s_obs[ok], np.maximum(s_exp[ok], 1e-12)
    # Only windows far above their mean can reach -log10 p >= 3: a z pre-screen saves the exact tails.
    z = (obs - exp) / np.sqrt(exp + alpha * exp * exp)
    cand = np.flatnonzero(z > 2.5)  # p <= 1e-3 lies beyond the normal's 3.09 for these right-skewed counts
    ev = nb_log10_sf(obs[cand], exp[cand], alpha) if len(cand) else np.zeros(0)
    hit = ok[cand[ev >= u]]
    peaks = ev[ev >= u]
    if len(hit):
        gap = max(1, int(round(cfg.calibration_gap_minutes / step_minutes)))
        episode = np.concatenate([[0], np.cumsum(np.diff(hit) > gap)])
        peaks = np.maximum.reduceat(peaks, np.flatnonzero(np.r_[True, np.diff(episode) > 0]))
    n = len(peaks)
    prior_days = cfg.calibration_prior_days
    # Nominal: a calibrated p-value beyond 1e-3 about once per thousand independent windows.
    nominal_rate = 1440.0 / window_minutes * 10**-u
    rate = (n + prior_days * nominal_rate) / (days + prior_days)
    # The median excess of an exponential tail in log10 units is log10(2) / b: the
    # median of the peaks' excesses, pooled with `calibration_prior_episodes`
    # pseudo-episodes at the nominal median, so one real outage moves nothing
    # and a dozen similar bursts set the tail.
    nominal = np.log10(2.0)
    pooled = np.concatenate([peaks - u, np.full(int(round(cfg.calibration_prior_episodes)), nominal)])
    b = float(np.clip(nominal / max(float(np.median(pooled)), 1e-3), 0.01, 1.0))
    bar = u + np.log10(max(rate / cfg.false_episodes_per_day, 1.0)) / b
    return float(np.clip(bar - cfg.problems_evidence, 0.0, cfg.calibration_max_shift))


def fit_profile(
    history: pd.Series,
    *,
    config: DetectorConfig,
    at: pd.Timestamp | None = None,
    step_minutes: float | None = None,
) -> Profile:
    """Fit a Profile from `history` (counts per step, DatetimeIndex).

    Causal: only rows strictly before `at` (default: just after the last row)
    and within `config.history_days` of it are used.
    """
    history = history.sort_index()
    if step_minutes is None:
        step_minutes = infer_step_minutes(history.index, config.step_minutes)
    if at is None:
        at = history.index[-1] + pd.Timedelta(minutes=step_minutes) if len(history) else None
    if at is not None:
        lo = at - pd.Timedelta(days=config.history_days)
        history = history[(history.index < at) & (history.index >= lo)]
    # Sum into fit_step buckets counted back from `at`, exactly like the batch
    # runner does at its refit points, so live fits and replays agree.
    agg = max(1, int(round(config.fit_step_minutes / step_minutes)))
    fit_step = agg * step_minutes
    if len(history) == 0:
        prof = fit_arrays(
            np.zeros(0), np.zeros(0, int), np.zeros(0, int), np.zeros(0), config=config, step_minutes=fit_step
        )
        return replace(prof, fitted_at=at)
    age_rows = ((at - history.index) / pd.Timedelta(minutes=1)).to_numpy(float)
    bid = np.floor((age_rows - 1e-9) / fit_step).astype(np.int64)  # 0 = most recent bucket
    nb = int(bid.max()) + 1
    sums = np.bincount(bid, np.nan_to_num(history.to_numpy(float)), nb)
    n = np.bincount(bid, minlength=nb)
    b_counts = np.where(n > 0, sums * agg / np.maximum(n, 1), np.nan)[::-1]  # oldest first
    b_age = ((np.arange(nb) + 1) * fit_step)[::-1]
    b_start = at - pd.to_timedelta(b_age, unit="min")
    tod, dow = time_slots(pd.DatetimeIndex(b_start), config.slot_minutes)
    prof = fit_arrays(b_counts, tod, dow, b_age.astype(float), config=config, step_minutes=fit_step)
    return replace(prof, fitted_at=at)


def infer_step_minutes(index: pd.DatetimeIndex, default: float) -> float:
    """Median spacing of the index in minutes (falls back to `default`)."""
    if len(index) < 2:
        return float(default)
    d = np.diff(pd.DatetimeIndex(index).as_unit("ns").asi8) / 6e10
    d = d[d > 0]
    return float(np.median(d)) if len(d) else float(default)
