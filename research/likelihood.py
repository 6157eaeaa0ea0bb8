"""Anomaly likelihood: how unusual is the recent evidence *for this series*?

A layer on top of the detector's evidence (-log10 NB tail p of trailing sums),
in the spirit of Numenta's anomaly likelihood (Ahmad et al. 2017):

    a(t)     = min(evidence(t), cap) / cap                      in [0, 1]
    short(t) = mean of a over the last `short_rows` rows (incl. t)
    mu, sd   = mean, std of a over the `long_rows` rows before that short window
    z(t)     = (short(t) - mu) / max(sd, SD_FLOOR)
    likelihood(t) = -log10 P(Z >= z(t)),  Z ~ N(0, 1)

Why: raw NB evidence is not calibrated across series. Tweet-like counts have
heavy tails, so a noisy series produces evidence of 10-20 every few hours
while a calm one rarely exceeds 5. Comparing the short-term evidence with the
series' own long-term evidence distribution makes one threshold serve both
(self-normalising), and the short-term mean prefers sustained surprise over a
single spiky row.

Causal: the value at t uses a[0..t] only. Pure numpy, vectorised over a
leading series axis. No Django imports.

`prominence` is an optional gate on the same flags: the recent count must
also stand out against the series' own range (see its docstring).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import log_ndtr

SD_FLOOR = 1e-4  # a flat evidence history must not make every blip infinitely unlikely


def anomaly_likelihood(
    evidence: np.ndarray, *, cap: float, short_rows: int, long_rows: int, min_rows: int
) -> np.ndarray:
    """-log10 tail probability of the short-term mean of capped evidence (last axis = time).

    0 where fewer than `min_rows` rows of long-term history exist yet.
    """
    ev = np.asarray(evidence, float)
    a = np.clip(np.nan_to_num(ev), 0.0, cap) / cap
    T = a.shape[-1]
    out = np.zeros(a.shape)
    if T == 0:
        return out
    zeros = np.zeros((*a.shape[:-1], 1))
    c1 = np.concatenate([zeros, np.cumsum(a, axis=-1)], axis=-1)  # c1[..., k] = sum a[:k]
    c2 = np.concatenate([zeros, np.cumsum(a * a, axis=-1)], axis=-1)
    t = np.arange(T)
    lo = np.maximum(t - short_rows + 1, 0)
    short = (c1[..., t + 1] - c1[..., lo]) / (t + 1 - lo)
    hi = np.maximum(t - short_rows + 1, 0)  # long window ends just before the short one
    lo2 = np.maximum(hi - long_rows, 0)
    n = hi - lo2
    valid = n >= max(min_rows, 2)
    nn = np.maximum(n, 2)
    s1 = c1[..., hi] - c1[..., lo2]
    s2 = c2[..., hi] - c2[..., lo2]
    mean = s1 / np.maximum(n, 1)
    var = np.maximum(s2 - n * mean * mean, 0.0) / (nn - 1)
    z = (short - mean) / np.maximum(np.sqrt(var), SD_FLOOR)
    lik = -log_ndtr(-z) / math.log(10.0)
    return np.where(valid, lik, 0.0)


def prominence(
    counts: np.ndarray,
    minutes: np.ndarray,
    *,
    window_rows: int,
    quantile: float,
    every_minutes: float,
    history_minutes: float,
    min_minutes: float,
) -> np.ndarray:
    """Trailing sum of `window_rows` counts over the `quantile` of the series' earlier trailing sums.

    What a person sees on the plot: NAB's labelled bursts are the ones that
    stand out against the series' whole range, while NB evidence measures a
    burst against its time-of-day baseline only, so a busy series' routine
    peaks can look as surprising as a calm series' event. The quantile is
    refreshed every `every_minutes` on a grid anchored at the first row (like
    the detector's refits), each time from the rows strictly before the grid
    point within `history_minutes`; it is floored at one count. Elapsed
    `minutes` since the first row, one value per row (last axis = time).
    0 until `min_minutes` of history exist. Causal: truncating the input
    never changes earlier values.
    """
    c = np.nan_to_num(np.clip(np.asarray(counts, float), 0.0, None))
    minutes = np.asarray(minutes, float)
    out = np.zeros(c.shape)
    T = c.shape[-1]
    if T == 0:
        return out
    cum = np.cumsum(c, axis=-1)
    x = cum.copy()
    x[..., window_rows:] = cum[..., window_rows:] - cum[..., :-window_rows]  # partial sums at the start
    first = int(math.ceil(min_minutes / every_minutes - 1e-9))
    for k in range(first, int(minutes[-1] // every_minutes) + 1):
        t_fit = k * every_minutes
        hi = int(np.searchsorted(minutes, t_fit, side="left"))
        rows = slice(hi, int(np.searchsorted(minutes, t_fit + every_minutes, side="left")))
        lo = int(np.searchsorted(minutes, t_fit - history_minutes, side="left"))
        if rows.start == rows.stop or hi - lo < 2:
            continue
        q = np.maximum(np.quantile(x[..., lo:hi], quantile, axis=-1), 1.0)
        out[..., rows] = x[..., rows] / np.asarray(q)[..., None]
    return out


def refractory_flags(trigger: np.ndarray, rearm_rows: int) -> np.ndarray:
    """Row indexes of flags: every True in `trigger` at least `rearm_rows` after the last flag.

    One flag per sustained episode: a burst keeps the trigger on for hours, and
    a second flag inside it would be a false positive by NAB's rules.
    """
    flags: list[int] = []
    last = -(10**18)
    for i in np.flatnonzero(np.asarray(trigger, bool)):
        if i - last >= rearm_rows:
            flags.append(int(i))
            last = i
    return np.asarray(flags, dtype=int)
