"""Candidate scale-free detector for issue 13 (pure numpy/pandas/scipy, no Django).

Same input and output shape as `analytics.detection.detect_frame`: a DataFrame
of counts (rows = timestamps, any step, irregular allowed; columns = series),
returning a FrameResult (counts, expected, upper, evidence, level 0/1/2,
elevated, alpha). Row t uses rows <= t only.

Model: "normal" is a mixture of a few simple, robust hypotheses about what the
series would do now, each with its own negative-binomial spread learnt from
its own past errors:

    W  same time last week     x growth (last 24 h vs the same 24 h a week earlier)
    W0 same time last week     as it was (a quiet day just now must not lower every hypothesis)
    W2 same time two weeks ago x growth (last 24 h vs the same 24 h two weeks earlier)
    D  same time yesterday     x growth (last 24 h vs the 24 h before)
    P  the recent level        (mean rate over the last 3 h; it cannot raise an alarm on its own)

For a trailing window of length T (in time: 5 min, 30 min, 2 h; never less
than the current row) with observed sum S, each available hypothesis k gives a
predictive mean M_k (sum of its per-row predictions) and a dispersion
alpha_k,T, and the evidence is

    evidence_T = -log10( sum_k w_k P_k(X >= S) ),  X ~ NegBin(M_k, alpha_k,T)

(equal weights over the hypotheses available at that row). A mixture tail
probability is small only when *every* hypothesis finds the window extreme:
the same hour last week being as busy is enough to call it normal, a quiet
holiday yesterday is outvoted by last week, and so on. With each component
calibrated, one threshold means one false-alarm rate on every series.

Robust to its own incidents: a row beyond the 0.999 quantile of the reference
hypothesis (the weekly ones) enters the history the hypotheses learn from as
that reference's mean, so an outage lifts nothing afterwards; a series beyond
its band for half of the last 24 h has a new normal and is learnt as it is.

Knobs (all in time or in probability, one in reports):
- `threshold`: -log10 tail probability for "problems" (mixture, per window);
- `floor_reports`: the excess (S - largest M_k) a window needs for "problems":
  a handful of reports is not an outage;
- time constants: windows, lags, refit period, smoothing half-width, growth spans.

Cost: per refit (every `refit_minutes` of time) a few searchsorted lookups
per series block; dispersions every `alpha_refit_minutes`; the NB tails are
evaluated once at the end, vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .series_math import cumulative, exposures, interval_sums, nb_quantile, nb_sf, solve_alpha, trailing
from .thresholds import calibrated_threshold

NORMAL, POSSIBLE, PROBLEMS = 0, 1, 2


@dataclass(frozen=True)
class CandidateConfig:
    threshold: float = 7.0  # -log10 p for "problems" (any window, mixture tail)
    possible_threshold: float = 3.5  # -log10 p for "possible" and for "elevated"
    floor_reports: float = 10.0  # excess reports a window needs for "problems"
    windows_minutes: tuple[float, ...] = (5.0, 30.0, 120.0)
    elevated_windows: int = 3  # the shortest windows whose band says "still elevated" (lifecycle recovery)
    confirm_minutes: float = 2.0  # "problems" must hold this long (at least one row)
    refit_minutes: float = 60.0  # hypotheses re-estimated this often (time, not rows)
    alpha_refit_minutes: float = 360.0  # dispersions re-estimated this often
    dispersion_days: float = 7.0  # errors used to estimate the dispersions
    dispersion_quantile: float = 0.9  # residual quantile matched to chi2(1)
    alpha_prior: float = 1.0  # dispersion before enough errors are seen (wide)
    alpha_min_samples: int = 20  # pseudo-samples of the prior in each dispersion estimate
    alpha_bounds: tuple[float, float] = (1e-3, 10.0)
    smooth_minutes: float = 30.0  # half-width of the lagged windows (at least one step)
    lags_days: tuple[float, ...] = (7.0, 14.0, 1.0, 7.0)  # W, W2, D, W as it was
    growth_hours: tuple[float, ...] = (24.0, 24.0, 24.0, 0.0)  # span of each lag's growth ratio (0: none)
    weekly_components: tuple[int, ...] = (0, 1, 3)  # indexes into lags_days: the learning reference
    daily_component: int = 2
    level_hours: float = 3.0  # span of the recent-level hypothesis P
    growth_bounds: tuple[float, float] = (0.25, 4.0)
    growth_prior_rows: float = 4.0  # pseudo-rows at the lagged rate in each growth ratio
    clip_quantile: float = 0.999  # history rows enter the learning clipped at this quantile
    learn_beyond_band: str = "mean"  # a row beyond the band is learnt as the reference "mean" or as the "band" edge
    lasting_hours: float = 24.0  # beyond the band for half of this long: a new normal, learnt as it is
    mask_pad_minutes: float = 30.0  # dispersion samples this close to a clipped row are left out
    warmup_days: float = 1.0  # no alarms before this much history
    min_coverage: float = 0.5  # a lagged window needs this share of its span observed
    upper_quantile: float = 0.99  # band returned as `upper`
    # --- self-calibration of the evidence (extreme-value, per series) ---
    # The NB tails are right in the bulk but real series can have heavier far
    # tails (tweets) or lighter ones (the mixture is conservative). Each series'
    # own history says how often episodes of evidence >= u and >= u + 2 happen;
    # an exponential tail through those two rates, shrunk to the nominal one
    # (calibrated p-values) by `calib_prior_episodes`, gives the evidence at which
    # episodes would happen `false_episodes_per_day` often: that is the series'
    # "problems" threshold (never below `threshold`... see min_threshold).
    calibrate: bool = True
    false_episodes_per_day: float = 1e-4  # target rate of false "problems" episodes per series
    calib_level: float = 3.0  # u
    calib_days: float = 28.0  # history of evidence used
    calib_refit_minutes: float = 360.0
    episode_gap_minutes: float = 120.0  # exceedances closer than this are one episode
    calib_prior_episodes: float = 3.0
    calib_presumed_real: int = 2  # the largest episodes in the history are presumed real events, not noise
    min_threshold: float = 7.0  # calibration only raises the bar: heavier tails than the model, never lighter
    max_threshold: float = 60.0


DEFAULT = CandidateConfig()


@dataclass(frozen=True)
class FrameResult:
    """Same fields as analytics.detection.FrameResult (plus `components`)."""

    index: pd.DatetimeIndex
    keys: list[str]
    counts: np.ndarray  # (n_series, T)
    expected: np.ndarray
    upper: np.ndarray
    evidence: np.ndarray
    level: np.ndarray  # int8
    elevated: np.ndarray  # bool
    alpha: np.ndarray  # (n_windows, n_series, T): dispersion of the first hypothesis
    pvalue: np.ndarray | None = None  # (n_windows, n_series, T) mixture tail probability
    components: np.ndarray | None = None  # (n_comp, n_series, T) per-row predictions (NaN = unavailable)
    excess: np.ndarray | None = None  # (n_windows, n_series, T) window sum minus the largest hypothesis
    minutes: np.ndarray | None = None  # (T,) minutes since the first row
    threshold: np.ndarray | None = None  # (n_series, T) the "problems" evidence threshold in force
    learned: np.ndarray | None = None  # (n_series, T) the history as the hypotheses learnt it (clipped)


# ----------------------------------------------------------------- helpers
def detect_frame(frame: pd.DataFrame, *, config: CandidateConfig = DEFAULT, since=None,
                 with_upper: bool = True, **_ignored) -> FrameResult:  # fmt: skip
    """Causal replay of every column of `frame` (see module docstring).

    Rows before `since` serve as history only: the hypotheses learn from them,
    but they get no evidence (p = 1, level 0), which saves the tail
    computations nobody reads (as analytics.detection.detect_frame's `since`).
    """
    cfg = config
    frame = frame.sort_index()
    idx = pd.DatetimeIndex(frame.index)
    keys = [str(c) for c in frame.columns]
    X = np.nan_to_num(np.clip(frame.to_numpy(float).T, 0, None)).reshape(len(keys), len(idx))
    n, T = X.shape
    nw = len(cfg.windows_minutes)
    if T == 0 or n == 0:
        z = np.zeros((n, T))
        return FrameResult(idx, keys, X, z, z, z, z.astype(np.int8), z.astype(bool), np.zeros((nw, n, T)))
    ns = idx.as_unit("ns").asi8
    tm = (ns - ns[0]) / 6e10
    dt = exposures(tm)
    cumE = cumulative(dt[None, :])[0]

    lags = [d * 1440.0 for d in cfg.lags_days]
    spans = [h * 60.0 for h in cfg.growth_hours]
    K = len(lags) + 1  # + recent level
    pred = np.full((K, n, T), np.nan)
    clean = X.copy()  # history as the hypotheses learn it (clipped rows), filled chunk by chunk
    clean_cum = np.zeros((n, T + 1))
    pred_cum = np.zeros((K, n, T + 1))
    bad_cum = np.zeros((K, n, T + 1))
    mask_cum = np.zeros((n, T + 1))  # rows clipped in the learning history (kept out of the dispersions)
    step = float(np.median(dt))
    win_alpha = np.full((K, nw, n, T), cfg.alpha_prior)
    row_alpha = np.full((K, n), cfg.alpha_prior)
    cur_win_alpha = np.full((K, nw, n), cfg.alpha_prior)

    R = cfg.refit_minutes
    n_chunks = int(tm[-1] // R) + 1
    bounds = np.searchsorted(tm, np.arange(n_chunks + 1) * R, side="left")
    next_alpha = 0.0
    done = 0  # rows < done are cleaned and in clean_cum
    for c in range(n_chunks):
        j0, j1 = bounds[c], bounds[c + 1]
        if j0 == j1:
            continue
        tau = c * R
        if tau >= next_alpha and done > 0:
            row_alpha, cur_win_alpha = _fit_alphas(clean_cum, pred_cum, bad_cum, mask_cum, tm, done, tau, step, cfg)
            next_alpha = tau + cfg.alpha_refit_minutes
        elif tau >= next_alpha:
            next_alpha = tau + cfg.alpha_refit_minutes
        t = tm[j0:j1]
        e = dt[j0:j1]
        cc = clean_cum[:, : done + 1]
        ce = cumE[: done + 1]
        tmd = tm[:done]
        h = max(cfg.smooth_minutes, float(np.median(e)))
        for k, (lag, span) in enumerate(zip(lags, spans, strict=True)):
            a, b = t - lag - h, t - lag + h
            cnt = interval_sums(cc, tmd, a, b)
            ex = interval_sums(ce[None, :], tmd, a, b)[0]
            ok = ex >= cfg.min_coverage * (b - a)
            rate = cnt / np.maximum(ex, 1e-9)
            if span <= 0:  # as it was, no growth adjustment
                pk = rate * e[None, :]
                pk[:, ~ok] = np.nan
                pred[k, :, j0:j1] = pk
                continue
            # growth: the last `span` before tau against the same span one lag earlier
            g_now = interval_sums(cc, tmd, np.array([tau - span]), np.array([tau]))[:, 0]
            e_now = interval_sums(ce[None, :], tmd, np.array([tau - span]), np.array([tau]))[0, 0]
            g_then = interval_sums(cc, tmd, np.array([tau - span - lag]), np.array([tau - lag]))[:, 0]
            e_then = interval_sums(ce[None, :], tmd, np.array([tau - span - lag]), np.array([tau - lag]))[0, 0]
            if e_now < cfg.min_coverage * span or e_then < cfg.min_coverage * span:
                continue
            r_then = g_then / e_then
            prior = cfg.growth_prior_rows * float(np.median(e))  # minutes of pseudo-exposure
            base = np.maximum(r_then, 1e-12)
            g = (g_now + prior * base) / (base * e_now + prior * base)
            g = np.clip(g, *cfg.growth_bounds)
            pk = rate * g[:, None] * e[None, :]
            pk[:, ~ok] = np.nan
            pred[k, :, j0:j1] = pk
        # recent level
        span = cfg.level_hours * 60.0
        e_now = interval_sums(ce[None, :], tmd, np.array([tau - span]), np.array([tau]))[0, 0]
        if e_now >= cfg.min_coverage * span:
            lvl = interval_sums(cc, tmd, np.array([tau - span]), np.array([tau]))[:, 0] / e_now
            pred[K - 1, :, j0:j1] = lvl[:, None] * e[None, :]
        win_alpha[:, :, :, j0:j1] = cur_win_alpha[..., None]
        # clip this chunk's rows into the learning history, at the upper band of the
        # reference hypothesis: the weekly ones (mean), else yesterday; none yet: learn as is.
        # (The mixture is lenient for alarms; learning must not be: a long outage
        # would otherwise teach the adaptive hypotheses that it is normal.)
        ref = np.full((n, j1 - j0), np.nan)
        ref_a = np.full((n, j1 - j0), cfg.alpha_prior)
        for group in (cfg.weekly_components, (cfg.daily_component,)):  # not P: it knows no time of day
            pg = pred[list(group), :, j0:j1]
            okg = np.isfinite(pg)
            cnt = okg.sum(axis=0)
            mg = np.where(cnt > 0, np.where(okg, pg, 0).sum(axis=0) / np.maximum(cnt, 1), np.nan)
            ag = np.min(np.where(okg, row_alpha[list(group)][:, :, None], np.inf), axis=0)  # the tightest
            fill = np.isnan(ref) & (cnt > 0)
            ref = np.where(fill, mg, ref)
            ref_a = np.where(fill, ag, ref_a)
        any_ok = np.isfinite(ref)
        upper = np.where(any_ok, nb_quantile(cfg.clip_quantile, np.nan_to_num(ref), ref_a), 0.0)
        chunk = X[:, j0:j1]
        cap = np.maximum(upper, 1.0)
        clipped = any_ok & (chunk > cap)
        # A row beyond the band is learnt as the reference's mean (an outage teaches
        # nothing), unless the series has been beyond its band for most of the last
        # `lasting_hours`: then that is its new normal, and it is learnt as it is.
        lo_l = int(np.searchsorted(tm[:done], tau - cfg.lasting_hours * 60.0))
        frac = (mask_cum[:, done] - mask_cum[:, lo_l]) / max(done - lo_l, 1)
        lasting = (frac >= 0.5)[:, None]
        mask_cum[:, j0 + 1 : j1 + 1] = mask_cum[:, j0 : j0 + 1] + np.cumsum(clipped, axis=1)
        learnt = np.nan_to_num(ref) if cfg.learn_beyond_band == "mean" else cap
        clean[:, j0:j1] = np.where(clipped & ~lasting, learnt, chunk)
        clean_cum[:, j0 + 1 : j1 + 1] = clean_cum[:, j0 : j0 + 1] + np.cumsum(clean[:, j0:j1], axis=1)
        pc = pred[:, :, j0:j1]
        pred_cum[:, :, j0 + 1 : j1 + 1] = pred_cum[:, :, j0 : j0 + 1] + np.cumsum(np.nan_to_num(pc, nan=0.0), axis=2)
        bad_cum[:, :, j0 + 1 : j1 + 1] = bad_cum[:, :, j0 : j0 + 1] + np.cumsum(np.isnan(pc), axis=2)
        done = j1

    first = 0 if since is None else int(idx.searchsorted(pd.Timestamp(since)))
    res = _score(idx, keys, X, tm, pred, win_alpha, cfg, with_upper, first)
    object.__setattr__(res, "learned", clean)
    return res


def _fit_alphas(clean_cum, pred_cum, bad_cum, mask_cum, tm, done, tau, step, cfg: CandidateConfig):
    """Dispersion per hypothesis: per row (for clipping) and per trailing window (for evidence).

    From the running cumulative sums of the cleaned history and of each
    hypothesis' predictions (rows < done, within dispersion_days of tau).
    """
    K, n, _ = pred_cum.shape
    lo = int(np.searchsorted(tm[:done], tau - cfg.dispersion_days * 1440.0))
    rows = np.arange(lo, done)
    widths = (0.0,) + tuple(cfg.windows_minutes)  # 0: the row itself
    out = np.empty((K, len(widths), n))
    for w, width in enumerate(widths):
        stride = max(1, int(round(width / max(step, 1e-9))), len(rows) // 2000)  # <= ~2,000 samples
        sel = rows[::-1][::stride][::-1]
        if width > 0:
            start = np.minimum(np.searchsorted(tm, tm[sel] - width, side="right"), sel)
        else:
            start = sel
        S = clean_cum[:, sel + 1] - clean_cum[:, start]
        # samples within mask_pad_minutes of a clipped row say nothing about ordinary noise
        m_lo = np.searchsorted(tm, tm[start] - cfg.mask_pad_minutes, side="left")
        m_hi = np.minimum(np.searchsorted(tm, tm[sel] + cfg.mask_pad_minutes, side="right"), done)
        near_clip = (mask_cum[:, m_hi] - mask_cum[:, m_lo]) > 0
        for k in range(K):
            M = pred_cum[k][:, sel + 1] - pred_cum[k][:, start]
            bad = ((bad_cum[k][:, sel + 1] - bad_cum[k][:, start]) > 0) | near_clip
            out[k, w] = solve_alpha(S, np.where(bad, np.nan, M), cfg)
    return out[:, 0], out[:, 1:]


def _score(idx, keys, X, tm, pred, win_alpha, cfg: CandidateConfig, with_upper: bool, first: int = 0) -> FrameResult:
    K, n, T = pred.shape
    nw = len(cfg.windows_minutes)
    warm = tm < cfg.warmup_days * 1440.0
    cum_x = cumulative(X)
    avail = np.isfinite(pred)
    cum_p = cumulative(np.where(avail, pred, 0.0))
    cum_bad = cumulative((~avail).astype(float))
    pv_all = np.ones((nw, n, T))
    excess_all = np.zeros((nw, n, T))
    for w, width in enumerate(cfg.windows_minutes):
        S = trailing(cum_x, tm, width)  # (n, T)
        M = trailing(cum_p, tm, width)  # (K, n, T)
        ok = trailing(cum_bad, tm, width) == 0
        psum = np.zeros((n, T))
        wsum = np.zeros((n, T))
        mmax = np.zeros((n, T))
        ok &= ~warm[None, None, :]
        ok &= ok[: K - 1].any(axis=0)[None]  # no seasonal hypothesis over the window: no evidence
        for k in range(K):
            okk = ok[k]
            pk = np.ones((n, T))
            if okk.any():
                pk[okk] = nb_sf(S[okk], M[k][okk], win_alpha[k, w][okk])
            psum += np.where(okk, pk, 0.0)
            wsum += okk
            mmax = np.where(okk, np.maximum(mmax, M[k]), mmax)
        pv = np.where(wsum > 0, psum / np.maximum(wsum, 1), 1.0)
        pv_all[w] = np.where(warm[None, :], 1.0, pv)
        excess_all[w] = S - mmax
    theta = calibrated_threshold((-np.log10(np.clip(pv_all, 1e-300, 1.0))).max(axis=0), tm, cfg)
    evidence, level, elevated = levels(pv_all, excess_all, tm, cfg, theta)
    if first:
        level[:, :first] = NORMAL
        elevated[:, :first] = False

    # expected = mean of the available hypotheses; upper = largest per-hypothesis quantile
    cnt = avail.sum(axis=0)
    expected = np.where(cnt > 0, np.where(avail, pred, 0.0).sum(axis=0) / np.maximum(cnt, 1), 0.0)
    upper = np.zeros((n, T))
    if with_upper:
        a0 = win_alpha[:, 0]
        for k in range(K):
            okk = avail[k]
            if okk.any():
                qk = np.zeros((n, T))
                qk[okk] = nb_quantile(cfg.upper_quantile, pred[k][okk], a0[k][okk])
                upper = np.where(okk, np.maximum(upper, qk), upper)
    return FrameResult(idx, keys, X, expected, upper, evidence, level, elevated,
                       win_alpha[0], pvalue=pv_all, components=pred, excess=excess_all, minutes=tm,
                       threshold=theta)  # fmt: skip


def levels(pvalue: np.ndarray, excess: np.ndarray, tm: np.ndarray, cfg: CandidateConfig, theta=None):
    """(evidence, level, elevated) from per-window mixture tail probabilities and excesses.

    `theta`: per (series, row) "problems" threshold (default: config.threshold);
    "possible" and "elevated" use possible_threshold / threshold of it.
    Cheap: threshold sweeps re-run only this.
    """
    ev_w = -np.log10(np.clip(pvalue, 1e-300, 1.0))
    evidence = ev_w.max(axis=0)
    th = cfg.threshold if theta is None else theta
    th_p = th * (cfg.possible_threshold / cfg.threshold)
    strong = ((ev_w >= th) & (excess >= cfg.floor_reports)).any(axis=0)
    moderate = ((ev_w >= th_p) & (excess >= cfg.floor_reports / 2)).any(axis=0)
    ne = cfg.elevated_windows
    elevated = ((ev_w[:ne] >= th_p) & (excess[:ne] >= cfg.floor_reports / 2)).any(axis=0)
    # "problems" once strong on every row of the last confirm_minutes (the current row at least)
    T = len(tm)
    cs = cumulative(strong.astype(float))
    ones = cumulative(np.ones((1, T)))
    held = trailing(cs, tm, cfg.confirm_minutes) >= trailing(ones, tm, cfg.confirm_minutes)
    level = np.where(held & strong, PROBLEMS, np.where(moderate, POSSIBLE, NORMAL)).astype(np.int8)
    return evidence, level, elevated


def detect_series(series: pd.Series, *, config: CandidateConfig = DEFAULT) -> pd.DataFrame:
    """One series: columns count, expected, upper, evidence, level (like analytics.detection.detect_series)."""
    series = series.sort_index()
    r = detect_frame(series.to_frame("total"), config=config)
    return pd.DataFrame({"count": r.counts[0], "expected": r.expected[0], "upper": r.upper[0],
                         "evidence": r.evidence[0], "level": r.level[0]}, index=series.index)  # fmt: skip
