"""Per-series calibration of the candidate's "problems" threshold from its own earlier evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .candidate import CandidateConfig


def calibrated_threshold(evidence: np.ndarray, tm: np.ndarray, cfg: CandidateConfig) -> np.ndarray:
    """Per series and row, the evidence at which "problems" episodes would occur
    `false_episodes_per_day` often, judging from that series' own earlier evidence.

    Episodes at level L: runs of evidence >= L, merged when less than
    `episode_gap_minutes` apart. With n_u, n_u2 episodes at u and u + 2 over the
    last D days (rows before the refit point only: causal), and the nominal
    model's rates as a prior worth `calib_prior_episodes` episodes:
        rate_u = (n_u + m) / (D + m / nominal_u)            per day
        f      = (n_u2 + m * 0.01) / (n_u + m)              P(peak >= u+2 | >= u)
        beta   = -2 / ln f                                  exponential tail scale
        theta  = u + beta * ln(rate_u / target)
    For calibrated p-values beta = 1/ln 10 and theta = -log10(target / tests per day).
    The `calib_presumed_real` largest episodes are left out of both counts (an
    outage, or the one going on, must not raise the bar for the next).
    Without `calibrate`, the fixed `threshold`.
    """
    n, T = evidence.shape
    if not cfg.calibrate:
        return np.full((n, T), cfg.threshold)
    u = cfg.calib_level
    step = float(np.median(np.diff(tm))) if T > 1 else 1.0
    tests_per_day = sum(1440.0 / max(w, step) for w in cfg.windows_minutes)
    # nominal episode rate at u: tests x 10^-u, but no more than one per gap
    nominal_u = min(tests_per_day * 10.0**-u, 1440.0 / cfg.episode_gap_minutes)
    m = cfg.calib_prior_episodes
    R = cfg.calib_refit_minutes
    grid = np.arange(0.0, tm[-1] + R, R)
    theta = np.full((n, T), cfg.threshold)
    bounds = np.searchsorted(tm, grid, side="left")
    for i in range(n):
        counts = []
        for level in (u, u + 2.0):
            rows = np.flatnonzero(evidence[i] >= level)
            t_ex = tm[rows]
            start = np.r_[True, np.diff(t_ex) >= cfg.episode_gap_minutes] if len(rows) else np.zeros(0, bool)
            t_start = t_ex[start]
            lo = np.searchsorted(t_start, grid - cfg.calib_days * 1440.0, side="left")
            hi = np.searchsorted(t_start, grid, side="left")
            counts.append(hi - lo)
        n_u, n_u2 = (np.maximum(c - cfg.calib_presumed_real, 0) for c in counts)
        days = np.minimum(grid, cfg.calib_days * 1440.0) / 1440.0
        rate_u = (n_u + m) / (days + m / nominal_u)
        f = np.clip((n_u2 + m * 0.01) / (n_u + m), 1e-6, 0.999)
        beta = -2.0 / np.log(f)
        th = u + beta * np.log(np.maximum(rate_u / cfg.false_episodes_per_day, 1.0))
        th = np.clip(th, cfg.min_threshold, cfg.max_threshold)
        for g in range(len(grid)):
            theta[i, bounds[g] : bounds[g + 1] if g + 1 < len(grid) else T] = th[g]
    return theta
