"""Generated scenario families: per-minute slice matrices with known outages (or none).

Compact on purpose (7 countries in 3 regions, 3 codes, 3 features: 26 slice
columns), generated directly as counts per (minute, country, code, feature),
so the whole harness runs in minutes. Everything is drawn from the seed:

- scale: the service's mean total rate, log-uniform in 0.2 - 2,000 reports/min;
- time-zone mix: Dirichlet shares over the 7 countries (each has its local time);
- daily pattern: the weekday / weekend hourly shapes of analytics.scenarios,
  sharpened or flattened by a random exponent; weekly pattern: a weekend factor
  and small random per-weekday factors;
- trend: exponential growth of -40 % .. +60 % over the whole span;
- dispersion: gamma multipliers per country and quarter hour, shape log-uniform
  in 2 - 50 (2 is very heavy), and a mild daily drift;
- micro-bursts: 3-8 reports from one country within 2 minutes, a few a week;
- history before the evaluated week: 7 - 14 days.

Outage families (one outage in the last 7 days, the evaluated week):
  sharp, ramp (slow ramp over 20-60 min), country (one country), feature (one
  feature, every region), worldwide (every region, joining 0-20 min apart),
  relapse (one region, a recovery of 20-40 min, then a second phase).
An outage adds max(m x the affected population's mean rate, 1 report/min) at
its plateau, m log-uniform in 3 - 30, with its own error code.
Trap families (no outage at all):
  surge (a weekly surge: every Monday 1.5-2.5x for 2-4 h in each region's local
  morning, with only 7-14 days of history, growth up to +60 %, heavy noise),
  holiday (one quiet day at 0.2-0.6x during the history or the evaluated week),
  noisy (gamma shape 1.5-3, strong growth or decline, more micro-bursts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from demo.background import WEEKDAY_SHAPE, WEEKEND_SHAPE

COUNTRIES = ["US", "CA", "DE", "GB", "FR", "JP", "AU"]
REGION = {"US": "NA", "CA": "NA", "DE": "EU", "GB": "EU", "FR": "EU", "JP": "APAC", "AU": "APAC"}
UTC_OFFSET_H = {"US": -6, "CA": -5, "DE": 1, "GB": 0, "FR": 1, "JP": 9, "AU": 10}
REGIONS = ["NA", "EU", "APAC"]
CODES = ["none", "500", "503"]
CODE_P = np.array([0.8, 0.1, 0.1])
OUTAGE_CODES = ["502", "ERR_TIMEOUT"]  # codes an outage brings (not in the background)
FEATURES = ["login", "unlock", "other"]
FEATURE_P = np.array([0.4, 0.3, 0.3])

# The demo's hourly shapes (raw, each hour's relative rate): the families sharpen or flatten them.
_WEEKDAY, _WEEKEND = WEEKDAY_SHAPE, WEEKEND_SHAPE

OUTAGE_FAMILIES = ("sharp", "ramp", "country", "feature", "worldwide", "relapse")
TRAP_FAMILIES = ("surge", "holiday", "noisy")
FAMILIES = OUTAGE_FAMILIES + TRAP_FAMILIES
START = pd.Timestamp("2024-01-01", tz="UTC")  # a Monday


@dataclass
class Scenario:
    family: str
    seed: int
    matrix: pd.DataFrame  # minutes x slice keys
    eval_start: pd.Timestamp  # the evaluated week starts here
    outage: dict | None  # onset, end, phases [(start, end)], regions, code, feature(s)
    params: dict = field(default_factory=dict)

    @property
    def service_weeks(self) -> float:
        return (self.matrix.index[-1] - self.eval_start + pd.Timedelta(minutes=1)) / pd.Timedelta(days=7)


def _loguniform(rng, lo, hi):
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _shape(hours: np.ndarray, profile: np.ndarray) -> np.ndarray:
    xp = np.arange(-0.5, 25.0)
    return np.interp(hours, xp, np.r_[profile[-1], profile, profile[0]])


def generate(family: str, seed: int) -> Scenario:
    assert family in FAMILIES, family
    rng = np.random.default_rng([FAMILIES.index(family), seed])
    trap = family in TRAP_FAMILIES
    hist_days = int(rng.integers(7, 15))
    days = hist_days + 7
    # any 7-day evaluated week holds one Monday; 7-14 days of history hold one or two before it
    start = START + pd.Timedelta(days=int(rng.integers(0, 7)))
    T = days * 1440
    minutes = np.arange(T)
    index = start + pd.to_timedelta(minutes, unit="min")
    scale = _loguniform(rng, 0.2, 2000.0)
    share = rng.dirichlet(np.full(len(COUNTRIES), 0.8))
    gamma_exp = rng.uniform(0.4, 1.4)
    weekend = rng.uniform(0.5, 1.15)
    weekday_f = np.r_[rng.uniform(0.9, 1.1, 5), [weekend, weekend]]
    growth = rng.uniform(-0.4, 0.6)
    shape = _loguniform(rng, 2.0, 50.0)
    bursts_per_week = 4.0
    if family == "noisy":
        shape = rng.uniform(1.5, 3.0)
        growth = rng.choice([-1, 1]) * rng.uniform(0.3, 0.8)
        bursts_per_week = 15.0
    if family == "surge":
        shape = rng.uniform(2.0, 6.0)
        growth = rng.uniform(0.0, 0.6)
    rate = np.empty((T, len(COUNTRIES)))
    for j, c in enumerate(COUNTRIES):
        lt = minutes + UTC_OFFSET_H[c] * 60
        lh = (lt / 60.0 + start.hour) % 24
        ldow = ((start.day_of_week * 1440 + lt) // 1440) % 7
        wd = _shape(lh, _WEEKDAY) ** gamma_exp
        we = _shape(lh, _WEEKEND) ** gamma_exp
        prof = np.where(ldow >= 5, we / we.mean(), wd / wd.mean()) * weekday_f[ldow]
        if family == "surge":
            f = rng.uniform(1.5, 2.5)
            dur = rng.uniform(2.0, 4.0)
            h0 = rng.uniform(6.0, 9.0)
            prof = prof * np.where((ldow == 0) & (lh >= h0) & (lh < h0 + dur), f, 1.0)
        rate[:, j] = prof * share[j] * scale
    rate *= np.exp(np.log1p(growth) * minutes / T)[:, None]
    holiday = None
    if family == "holiday":
        hd = int(rng.integers(hist_days - 7, days - 1))  # a UTC day in the last 7 history days or the eval week
        depth = rng.uniform(0.2, 0.6)
        rate[(minutes // 1440) == hd] *= depth
        holiday = {"day": hd, "depth": depth}
    block = minutes // 15
    rate *= rng.gamma(shape, 1.0 / shape, size=(block[-1] + 1, len(COUNTRIES)))[block]
    anchors = np.arange(0, T + 1440, 1440)
    rate *= np.interp(minutes, anchors, rng.gamma(80.0, 1 / 80.0, size=len(anchors)))[:, None]

    # background counts per (minute, country, code, feature)
    cf = np.outer(CODE_P, FEATURE_P).ravel()
    counts = rng.poisson(rate[:, :, None] * cf[None, None, :])  # (T, C, 9)
    extra_codes = np.zeros((T, len(COUNTRIES), len(OUTAGE_CODES), len(FEATURES)))
    # micro-bursts
    nb = rng.poisson(bursts_per_week * days / 7)
    for _ in range(nb):
        a = int(rng.integers(0, T - 3))
        j = int(rng.choice(len(COUNTRIES), p=share))
        for _k in range(int(rng.integers(3, 9))):
            counts[a + int(rng.integers(0, 3)), j, int(rng.integers(0, 9))] += 1

    eval_start = index[hist_days * 1440]
    outage = None
    if not trap:
        outage = _outage(family, rng, rate, share, scale, T, hist_days, extra_codes, counts, index)
    m = _slices(counts, extra_codes, index)
    params = {"scale": round(scale, 3), "shape": round(shape, 2), "growth": round(growth, 2), "hist_days": hist_days}
    if holiday:
        params["holiday"] = holiday
    return Scenario(family, seed, m, eval_start, outage, params)


def _outage(family, rng, rate, share, scale, T, hist_days, extra, counts, index):
    code_i = int(rng.integers(0, len(OUTAGE_CODES)))
    reg_share = {r: sum(share[j] for j, c in enumerate(COUNTRIES) if REGION[c] == r) for r in REGIONS}
    if family in ("sharp", "ramp", "relapse"):
        # one region or all, weighted towards regions with a real share
        if rng.uniform() < 0.3:
            regions = list(REGIONS)
        else:
            regions = [REGIONS[int(rng.choice(3, p=np.array([reg_share[r] for r in REGIONS]) / 1.0))]]
        affected = [j for j, c in enumerate(COUNTRIES) if REGION[c] in regions]
    elif family == "country":
        j = int(rng.choice(len(COUNTRIES), p=share))
        affected = [j]
        regions = [REGION[COUNTRIES[j]]]
    else:  # feature, worldwide
        affected = list(range(len(COUNTRIES)))
        regions = list(REGIONS)
    feat = [int(rng.integers(0, len(FEATURES)))] if family == "feature" else list(range(len(FEATURES)))
    pop = scale * sum(share[j] for j in affected) * (FEATURE_P[feat].sum())
    mult = _loguniform(rng, 3.0, 30.0)
    plateau = max(mult * pop, 1.0)
    dur = int(rng.integers(30, 241))
    onset = int(rng.integers(hist_days * 1440 + 60, T - dur - 300))
    t = np.arange(dur, dtype=float)
    if family == "ramp":
        ramp = rng.uniform(20, 60)
        shape_t = np.clip(t / ramp, 0, 1)
    else:
        shape_t = np.clip((t + 1) / rng.uniform(1, 3), 0, 1)
    phases = [(onset, onset + dur)]
    if family == "relapse":
        gap = int(rng.integers(20, 41))
        dur2 = int(rng.integers(30, 121))
        shape_t = np.r_[shape_t, np.zeros(gap), np.clip((np.arange(dur2) + 1) / 3.0, 0, 1)]
        phases.append((onset + dur + gap, onset + dur + gap + dur2))
    L = len(shape_t)
    w = np.array([share[j] for j in affected])
    w = w / w.sum()
    delays = np.zeros(len(affected))
    if family == "worldwide":
        delays_by_region = rng.permutation([0.0, rng.uniform(0, 20), rng.uniform(0, 20)])
        reg_delay = dict(zip(REGIONS, delays_by_region, strict=True))
        delays = np.array([reg_delay[REGION[COUNTRIES[j]]] for j in affected])
    tt = np.arange(L)[:, None]
    active = (tt >= delays[None, :]).astype(float) * w[None, :]
    inten = plateau * shape_t[:, None] * active  # (L, n_affected)
    fp = FEATURE_P[feat] / FEATURE_P[feat].sum()
    add = rng.poisson(inten[:, :, None] * fp[None, None, :])  # (L, n_aff, n_feat)
    for a, j in enumerate(affected):
        extra[onset : onset + L, j, code_i, feat] += add[:, a, :]
    end = onset + L
    spans = [(index[a], index[min(b, T - 1)]) for a, b in phases]
    return {"onset": index[onset], "end": index[min(end, T - 1)], "phases": spans,
            "regions": sorted(regions), "code": OUTAGE_CODES[code_i], "features": [FEATURES[f] for f in feat],
            "mult": round(mult, 2), "plateau_per_min": round(plateau, 2), "worldwide": len(regions) == 3}  # fmt: skip


def _slices(counts: np.ndarray, extra: np.ndarray, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Slice matrix with the same keys as analytics.slices (total, region:, country:, code:, feature:, region_code:)."""
    T = counts.shape[0]
    bg = counts.reshape(T, len(COUNTRIES), len(CODES), len(FEATURES)).astype(float)
    full = np.concatenate([bg, extra], axis=2)  # (T, C, codes+outage codes, F)
    codes = CODES + OUTAGE_CODES
    cols = {"total": full.sum(axis=(1, 2, 3))}
    by_c = full.sum(axis=(2, 3))
    for j, c in enumerate(COUNTRIES):
        cols[f"country:{c}"] = by_c[:, j]
    by_code = full.sum(axis=(1, 3))
    by_feat = full.sum(axis=(1, 2))
    for r in REGIONS:
        js = [j for j, c in enumerate(COUNTRIES) if REGION[c] == r]
        cols[f"region:{r}"] = by_c[:, js].sum(axis=1)
        rc = full[:, js].sum(axis=(1, 3))
        for k, code in enumerate(codes):
            if rc[:, k].any():
                cols[f"region_code:{r}|{code}"] = rc[:, k]
    for k, code in enumerate(codes):
        if by_code[:, k].any():
            cols[f"code:{code}"] = by_code[:, k]
    for f, name in enumerate(FEATURES):
        cols[f"feature:{name}"] = by_feat[:, f]
    df = pd.DataFrame(cols, index=index)
    return df.sort_index(axis=1)
