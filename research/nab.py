"""NAB (Numenta Anomaly Benchmark) loading, scoring and evaluation.

Pure Python/numpy/pandas: no Django imports, so the benchmark runs anywhere.

The scorer re-implements NAB's sweeper for a *binary* detector (a list of
flag timestamps) as described in ../shared/nab/README.md (beside the repository):

* rows before the probationary period (first 15% of the file, at most 750
  rows) are ignored entirely;
* inside a window only the earliest flag counts, worth tp * S(p) / S(-1);
* a window with no (scored) flag costs -fn;
* every flag outside windows costs fp * S(d) relative to the last window
  before it (or -fp when no window precedes it).

The twitterADVec anchor check in tests/test_nab_scorer.py pins this down.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.core.detection import detect_series, rows_in

from .config import NAB_CONFIG, NabConfig
from .likelihood import anomaly_likelihood, prominence, refractory_flags

REPOSITORY = Path(__file__).resolve().parent.parent


def default_nab_dir() -> Path:
    """NAB_DIR if set, else ../shared/nab beside the repository (as CI and the dev machines lay it out)."""
    return Path(os.environ.get("NAB_DIR") or REPOSITORY.parent / "shared" / "nab")


PROFILES: dict[str, tuple[float, float, float]] = {
    # name: (tp, fp, fn)
    "standard": (1.0, 0.11, 1.0),
    "reward_low_FP_rate": (1.0, 0.22, 1.0),
    "reward_low_FN_rate": (1.0, 0.11, 2.0),
}
PROBATION_FRACTION = 0.15


def scaled_sigmoid(x: float) -> float:
    """NAB's S(): 2/(1+exp(5x)) - 1, clamped to -1 beyond 3 window widths."""
    if x > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def probation_rows(n_rows: int) -> int:
    """NAB: min(floor(0.15 * n), 0.15 * 5000 = 750)."""
    return int(min(math.floor(PROBATION_FRACTION * n_rows), PROBATION_FRACTION * 5000))


@dataclass(frozen=True)
class FileScore:
    """Raw NAB score of one file under one profile, with its parts."""

    score: float
    n_windows: int
    tp: int
    fn: int
    fp: int


# --------------------------------------------------------------------- loading
def load_series(path: str) -> pd.Series:
    """Read a NAB `timestamp,value` CSV into a float Series with a DatetimeIndex."""
    df = pd.read_csv(path)
    idx = pd.DatetimeIndex(pd.to_datetime(df["timestamp"]), name="timestamp")
    return pd.Series(df["value"].to_numpy(dtype=float), index=idx, name="value")


def load_windows(path: str) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
    """Read NAB windows JSON, keyed by bare file name ("Twitter_volume_AAPL.csv")."""
    with open(path) as fh:
        raw = json.load(fh)
    return {os.path.basename(key): [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in wins] for key, wins in raw.items()}


# --------------------------------------------------------------------- scoring
def _window_rows(index: pd.DatetimeIndex, windows: Sequence[tuple]) -> list[tuple[int, int]]:
    """Map window (start, end) timestamps to inclusive row indexes."""
    rows = []
    for start, end in windows:
        left = int(index.searchsorted(pd.Timestamp(start), side="left"))
        right = int(index.searchsorted(pd.Timestamp(end), side="right")) - 1
        rows.append((left, right))
    return sorted(rows)


def score_flags(
    series_index: pd.DatetimeIndex,
    windows: Sequence[tuple],
    flag_timestamps: Iterable,
    profile: str | tuple[float, float, float] = "standard",
) -> FileScore:
    """Raw NAB score of binary flags for one file (see module docstring)."""
    tp_w, fp_w, fn_w = PROFILES[profile] if isinstance(profile, str) else profile
    index = pd.DatetimeIndex(series_index)
    n = len(index)
    probation = probation_rows(n)
    win_rows = _window_rows(index, windows)
    flag_rows = sorted({int(index.get_indexer([pd.Timestamp(t)])[0]) for t in flag_timestamps} - {-1})
    max_tp = scaled_sigmoid(-1.0)

    total = 0.0
    tp = fp = 0
    detected: set[int] = set()
    for i in flag_rows:
        if i < probation:
            continue  # NAB drops probationary rows before scoring
        w = next((k for k, (lo, hi) in enumerate(win_rows) if lo <= i <= hi), None)
        if w is not None:
            if w in detected:
                continue  # only the earliest flag in a window counts
            left, right = win_rows[w]
            width = right - left + 1
            pos = -(right - i + 1) / width
            total += tp_w * scaled_sigmoid(pos) / max_tp
            detected.add(w)
            tp += 1
        else:
            prev = [(lo, hi) for (lo, hi) in win_rows if hi < i]
            if not prev:
                total += -fp_w
            else:
                left, right = prev[-1]
                width = right - left + 1
                d = abs(i - right) / (width - 1)
                total += fp_w * scaled_sigmoid(d)
            fp += 1
    missed = len(win_rows) - len(detected)
    total -= fn_w * missed
    return FileScore(score=total, n_windows=len(win_rows), tp=tp, fn=missed, fp=fp)


def normalised_scores(results: Mapping[str, Mapping[str, FileScore]]) -> dict[str, float]:
    """NAB-normalised score per profile over a set of files.

    `results` is {file: {profile: FileScore}}. 100 * (S - S_null) / (S_perfect - S_null)
    with S_null = -fn * windows and S_perfect = tp * windows, summed over files.
    """
    out: dict[str, float] = {}
    for name, (tp_w, _fp_w, fn_w) in PROFILES.items():
        raw = sum(r[name].score for r in results.values())
        n_win = sum(r[name].n_windows for r in results.values())
        null, perfect = -fn_w * n_win, tp_w * n_win
        out[name] = 100.0 * (raw - null) / (perfect - null) if perfect != null else 0.0
    return out


def score_all_profiles(index: pd.DatetimeIndex, windows: Sequence[tuple], flags: Iterable) -> dict[str, FileScore]:
    flags = list(flags)
    return {p: score_flags(index, windows, flags, p) for p in PROFILES}


# ------------------------------------------------------------------ evaluation
def levels_to_flags(level: np.ndarray, step_minutes: float, *, flag_level: int, rearm_minutes: float) -> np.ndarray:
    """Row indexes of flags: the first row where level >= flag_level, then no new
    flag until the level has stayed at normal (0) for `rearm_minutes`.

    Causal (each decision looks only backwards) and fixed for all files.
    """
    rearm_rows = max(1, int(math.ceil(rearm_minutes / step_minutes)))
    flags: list[int] = []
    armed = True
    quiet = 0
    for i, lv in enumerate(np.asarray(level)):
        if armed and lv >= flag_level:
            flags.append(i)
            armed, quiet = False, 0
        elif not armed:
            quiet = quiet + 1 if lv == 0 else 0
            if quiet >= rearm_rows:
                armed = True
    return np.asarray(flags, dtype=int)


def _elapsed_minutes(det: pd.DataFrame) -> np.ndarray:
    return np.asarray((pd.DatetimeIndex(det.index) - det.index[0]) / pd.Timedelta(minutes=1), float)


def evidence_likelihood(det: pd.DataFrame, config: NabConfig) -> np.ndarray:
    """Anomaly likelihood of one detect_series result's evidence (research.likelihood)."""
    step = config.step_minutes
    return anomaly_likelihood(
        det["evidence"].to_numpy(float),
        cap=config.likelihood_cap,
        short_rows=rows_in(config.likelihood_short_minutes, step),
        long_rows=rows_in(config.likelihood_long_minutes, step),
        min_rows=rows_in(config.likelihood_min_minutes, step),
    )


def count_prominence(det: pd.DataFrame, config: NabConfig) -> np.ndarray:
    """Prominence of one detect_series result's counts (research.likelihood.prominence).

    Same history as the likelihood (`likelihood_long_minutes`, none before
    `likelihood_min_minutes`), refreshed on the detector's refit grid.
    """
    if len(det) == 0:
        return np.zeros(0)
    return prominence(
        det["count"].to_numpy(float),
        _elapsed_minutes(det),
        window_rows=rows_in(config.prominence_minutes, config.step_minutes),
        quantile=config.prominence_quantile,
        every_minutes=config.refit_minutes,
        history_minutes=config.likelihood_long_minutes,
        min_minutes=config.likelihood_min_minutes,
    )


def detection_to_flags(
    det: pd.DataFrame,
    config: NabConfig,
    *,
    likelihood: np.ndarray | None = None,
    prominence: np.ndarray | None = None,
) -> np.ndarray:
    """Row indexes of NAB flags from one detect_series result, per `config.flag_source`.

    "level": first row at `flag_level`, re-armed after `rearm_minutes` at level 0.
    "likelihood": anomaly likelihood of the evidence (research.likelihood) at
    or above `likelihood_threshold` and, when `prominence_minutes` > 0, count
    prominence at or above `prominence_ratio`; then no flag for `rearm_minutes`.
    Both are causal, and no flag falls within `flag_warmup_minutes` of the first row.
    `likelihood` / `prominence` may be passed precomputed (from
    evidence_likelihood / count_prominence with the same config) to save time
    in parameter sweeps.
    """
    step = config.step_minutes
    if config.flag_source == "level":
        flags = levels_to_flags(
            det["level"].to_numpy(), step, flag_level=config.flag_level, rearm_minutes=config.rearm_minutes
        )
    elif config.flag_source == "likelihood":
        lik = evidence_likelihood(det, config) if likelihood is None else likelihood
        trigger = lik >= config.likelihood_threshold
        if config.prominence_minutes > 0:
            prom = count_prominence(det, config) if prominence is None else prominence
            trigger &= prom >= config.prominence_ratio
        if len(det) and config.flag_warmup_minutes > 0:
            # Warm-up by elapsed time, so it is causal (no need to know the file's length).
            trigger &= _elapsed_minutes(det) >= config.flag_warmup_minutes
        return refractory_flags(trigger, rows_in(config.rearm_minutes, step))
    else:
        raise ValueError(f"unknown flag_source {config.flag_source!r}")
    if len(det) and config.flag_warmup_minutes > 0:
        flags = flags[_elapsed_minutes(det)[flags] >= config.flag_warmup_minutes]
    return flags


def evaluate(
    data_dir: str,
    windows_path: str,
    config: NabConfig | None = None,
    *,
    files: Sequence[str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict:
    """Run the causal detector on every CSV in data_dir and NAB-score the flags.

    Returns {"files": {name: {profile: raw score, ...}}, "normalised": {...},
    "flags": {name: [timestamp str, ...]}}. `files` restricts to a subset (for
    held-out checks). Labels are only used for scoring, never by the detector.
    `progress(name, i, n)` is called before each file.
    """
    config = config or NAB_CONFIG
    windows = load_windows(windows_path)
    names = sorted(f for f in os.listdir(data_dir) if f.endswith(".csv"))
    if files is not None:
        names = [f for f in names if f in set(files)]
    results: dict[str, dict[str, FileScore]] = {}
    flags_out: dict[str, list[str]] = {}
    for k, name in enumerate(names):
        if progress is not None:
            progress(name, k, len(names))
        path = os.path.join(data_dir, name)
        raw_ts = pd.read_csv(path, usecols=["timestamp"])["timestamp"].astype(str).to_numpy()
        series = load_series(path)
        det = detect_series(series, config=config.detector)
        rows = detection_to_flags(det, config)
        flags_out[name] = [str(raw_ts[i]) for i in rows]
        results[name] = score_all_profiles(series.index, windows.get(name, []), series.index[rows])
    return {
        "files": {n: {p: s.score for p, s in r.items()} for n, r in results.items()},
        "details": results,
        "normalised": normalised_scores(results),
        "flags": flags_out,
    }
