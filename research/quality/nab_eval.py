"""NAB checks: realTweets leave-one-file-out (with in-sample beside it) and the artificial series.

Detectors are given as `flags(name, series, knob) -> row indexes`, where
`knob` is one point of a small grid. Leave-one-file-out: for each of the seven
files, the grid point with the best summed raw score on the *other six* is
scored on it; the seven held-out raw scores are summed and normalised as NAB
does (per profile, selecting separately for standard and for low FP). In-sample:
the grid point best on all seven, scored on all seven. A detector with a single
fixed point has held-out == in-sample, *unless* that point was chosen on these
files (say so where it is reported).

Artificial series, as they come (own scales, 5-minute rows): every flag on
artificialNoAnomaly is a false alarm; on artificialWithAnomaly a window is
found when a flag falls inside it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from . import ports

NAB_DIR = os.environ.get("TREMOR_NAB_DIR", "/work/shared/nab")
PROFILE_NAMES = ("standard", "reward_low_FP_rate")


def load(category: str) -> dict[str, pd.Series]:
    d = os.path.join(NAB_DIR, "data", category)
    return {f: ports.load_series(os.path.join(d, f)) for f in sorted(os.listdir(d)) if f.endswith(".csv")}


def windows() -> dict:
    return ports.load_windows(os.path.join(NAB_DIR, "labels", "windows.json"))


def _normalise(raw: float, n_windows: int, profile: str) -> float:
    tp, _fp, fn = ports.PROFILES[profile]
    null, perfect = -fn * n_windows, tp * n_windows
    return 100.0 * (raw - null) / (perfect - null)


def score_grid(series: dict[str, pd.Series], flags: dict[tuple[str, object], np.ndarray], knobs: Sequence,
               wins: dict) -> dict:  # fmt: skip
    """raw[(file, knob)][profile] -> FileScore."""
    out = {}
    for name, s in series.items():
        for k in knobs:
            rows = flags[(name, k)]
            out[(name, k)] = ports.score_all_profiles(s.index, wins.get(name, []), s.index[rows])
    return out


def loo(series: dict[str, pd.Series], raw: dict, knobs: Sequence) -> dict:
    """Leave-one-file-out and in-sample normalised scores per profile, with the chosen knobs."""
    names = list(series)
    res = {}
    for prof in PROFILE_NAMES:
        held, chosen = 0.0, {}
        n_win = sum(raw[(n, knobs[0])][prof].n_windows for n in names)
        for out_name in names:
            train = [n for n in names if n != out_name]
            best = max(knobs, key=lambda k: (sum(raw[(n, k)][prof].score for n in train), -knobs.index(k)))
            chosen[out_name] = best
            held += raw[(out_name, best)][prof].score
        best_all = max(knobs, key=lambda k: (sum(raw[(n, k)][prof].score for n in names), -knobs.index(k)))
        ins = sum(raw[(n, best_all)][prof].score for n in names)
        per_file = {n: (raw[(n, chosen[n])][prof].tp, raw[(n, chosen[n])][prof].fn, raw[(n, chosen[n])][prof].fp)
                    for n in names}  # fmt: skip
        res[prof] = {"loo": _normalise(held, n_win, prof), "in_sample": _normalise(ins, n_win, prof),
                     "chosen": chosen, "in_sample_knob": best_all, "loo_tp_fn_fp": per_file}  # fmt: skip
    return res


def artificial(flagger: Callable[[str, pd.Series], np.ndarray]) -> dict:
    """Flags per artificialNoAnomaly file, and found/not per artificialWithAnomaly window."""
    wins = windows()
    out = {"no_anomaly": {}, "with_anomaly": {}}
    for name, s in load("artificialNoAnomaly").items():
        out["no_anomaly"][name] = int(len(flagger(name, s)))
    for name, s in load("artificialWithAnomaly").items():
        rows = flagger(name, s)
        ts = s.index[rows]
        found = []
        for a, b in wins.get(name, []):
            inside = [t for t in ts if a <= t <= b]
            found.append(bool(inside))
        out["with_anomaly"][name] = {
            "found": found,
            "flags": int(len(rows)),
            "outside": int(sum(1 for t in ts if not any(a <= t <= b for a, b in wins[name]))),
        }
    return out


# ------------------------------------------------------------ the detectors under test
def current_flags(config) -> Callable[[str, pd.Series], np.ndarray]:
    """The product with `config`: incident openings of a replay of the series (as nab_evaluate does)."""

    def f(name: str, s: pd.Series) -> np.ndarray:
        return ports.series_openings(s, config=config)

    return f


def resampled(series: dict[str, pd.Series], minutes: int) -> dict[str, pd.Series]:
    """The same files summed to `minutes` rows: a step-independence view, not new data."""
    return {n: s.resample(f"{minutes}min", origin="start").sum() for n, s in series.items()}


def openings(result, level: np.ndarray, elevated: np.ndarray) -> np.ndarray:
    """Row indexes where the incident lifecycle opens an incident on a single series.

    The same lifecycle as the product (open at problems while elevated, resolve
    after 15 quiet minutes, a relapse within 2 h is the same incident), so a
    flag is an incident opening of a replay over that series.
    """
    level = level[None, :] if level.ndim == 1 else level
    elevated = elevated[None, :] if elevated.ndim == 1 else elevated
    scored = ports.Scored(index=result.index, keys=[ports.TOTAL], counts=result.counts.T, expected=result.expected.T,
                          level=level.T, evidence=result.evidence.T, elevated=elevated.T)  # fmt: skip
    found = ports.incidents_over(scored, from_row=0)
    return np.asarray(sorted({int(result.index.get_loc(s.detected_at)) for s in found}), dtype=int)
