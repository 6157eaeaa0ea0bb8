"""Count-series arithmetic of the candidate detector: NB tails and quantiles, exposures, sums over time intervals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import special, stats

if TYPE_CHECKING:
    from .candidate import CandidateConfig

_CHI2_Q90 = float(stats.chi2.ppf(0.9, 1))


def nb_sf(s: np.ndarray, mean: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """P(X >= s), X ~ NB(mean, alpha) (Var = mean + alpha mean^2); continuous in s."""
    s, mean, alpha = np.broadcast_arrays(np.asarray(s, float), np.maximum(np.asarray(mean, float), 1e-9),
                                         np.asarray(alpha, float))  # fmt: skip
    r = 1.0 / alpha
    q = mean / (r + mean)
    out = np.ones(s.shape)
    pos = s > mean  # below the mean the tail is > ~0.3: irrelevant for evidence, saves time
    out[pos] = special.betainc(s[pos], r[pos], q[pos])
    return out


def nb_quantile(q: float, mean: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Approximate NB upper quantile (normal approximation plus one count of slack; fast, slightly wide)."""
    z = float(stats.norm.ppf(q))
    m = np.maximum(mean, 0.0)
    return m + z * np.sqrt(m + alpha * m * m) + 1.0


def exposures(minutes: np.ndarray) -> np.ndarray:
    """Minutes each row covers: the gap since the previous row, capped at 3x the
    median of the previous (up to 50) gaps so a data outage does not become
    one giant row. Row 0 takes row 1's gap (no earlier row to use)."""
    T = len(minutes)
    if T == 0:
        return np.zeros(0)
    if T == 1:
        return np.ones(1)
    gaps = np.diff(minutes)
    med = pd.Series(gaps).rolling(50, min_periods=1).median().to_numpy()
    cap = np.r_[med[0], med[:-1]] * 3.0
    dt = np.minimum(gaps, np.maximum(cap, 1e-9))
    return np.r_[dt[0], dt]


def interval_sums(cum: np.ndarray, minutes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sum over rows with a <= minute < b, from cum (n, T+1) with cum[:, 0] = 0."""
    ia = np.searchsorted(minutes, a, side="left")
    ib = np.searchsorted(minutes, b, side="left")
    return cum[:, ib] - cum[:, ia]


def trailing(cum: np.ndarray, minutes: np.ndarray, width: float) -> np.ndarray:
    """Sums over rows in (t - width, t] for every row t (the row itself always included)."""
    T = len(minutes)
    lo = np.searchsorted(minutes, minutes - width, side="right")
    lo = np.minimum(lo, np.arange(T))
    hi = np.arange(T) + 1
    return cum[..., hi] - cum[..., lo]


def cumulative(x: np.ndarray) -> np.ndarray:
    z = np.zeros((*x.shape[:-1], 1))
    return np.concatenate([z, np.cumsum(x, axis=-1)], axis=-1)


def solve_alpha(s: np.ndarray, m: np.ndarray, cfg: CandidateConfig) -> np.ndarray:
    """Per series (axis 0): alpha matching the 0.9 quantile of squared Pearson residuals to chi2(1)."""
    ok = np.isfinite(s) & np.isfinite(m) & (m > 0)
    a_i = np.where(ok, ((s - m) ** 2 / _CHI2_Q90 - m) / np.where(ok, m * m, 1.0), np.nan)
    n = ok.sum(axis=-1)
    out = np.full(s.shape[0], cfg.alpha_prior)
    has = n >= 3
    if has.any():
        srt = np.sort(np.where(ok, a_i, np.inf)[has], axis=-1)  # NaN rows sort last as +inf
        nh = n[has]
        pos = cfg.dispersion_quantile * (nh - 1)
        i0 = np.floor(pos).astype(int)
        i1 = np.minimum(i0 + 1, nh - 1)
        fr = pos - i0
        r = np.arange(srt.shape[0])
        est = np.clip(srt[r, i0] * (1 - fr) + srt[r, i1] * fr, *cfg.alpha_bounds)
        # shrunk to the (wide) prior by alpha_min_samples pseudo-samples: few errors, wide band
        n0 = cfg.alpha_min_samples
        out[has] = (nh * est + n0 * cfg.alpha_prior) / (nh + n0)
    return np.clip(out, *cfg.alpha_bounds)


# ----------------------------------------------------------------- detector
