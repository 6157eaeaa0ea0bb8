"""What the evidence calibration (issue 13) costs the tick and the replay: the same work with it off.

    .venv/bin/python -m bench.detection_cost [--days 22] [--repeat 3]

The detector's work on one service's slices (the 14 Feb 2023 stream of
bench/replay.py: 22 days, ~80 slices) with TREMOR_CONFIG and with the same
configuration with `calibrate=False` (the configuration before the change),
alternating, median of `--repeat`, in this one process:

- replay: `detect_frame` over the whole stream (what `manage.py replay` runs
  after loading, and `nab_evaluate` per file);
- fit: every slice's profile at one refit point (what a tick pays for a
  service whose profiles are not stored: the cold tick of bench 4);
- score: the warm tick's scoring of the last 90 minutes from stored profiles
  (`score_arrays`).

Prints seconds and the ratio calibrated / uncalibrated (1.00x = no slower).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import numpy as np
import pandas as pd

from analytics.core.baseline import time_slots
from analytics.core.detection import TREMOR_CONFIG, detect_frame, evidence_shift, fit_at, fit_buckets, score_arrays
from analytics.core.slices import slice_matrix
from reports.regions import region_for

from .replay import stream


def matrix(days: int) -> pd.DataFrame:
    frame = stream(days)
    minute = frame["observed_at"].dt.floor("1min")
    rows = (
        frame.assign(minute=minute, count=1, region=frame["country"].map(region_for))
        .groupby(["minute", "region", "country", "code", "feature"], as_index=False)["count"]
        .sum()
    )
    return slice_matrix(rows, start=minute.min().floor("1D"), end=minute.max() + pd.Timedelta(minutes=1))


def fit_all(m: pd.DataFrame, config) -> list:
    minutes = np.arange(len(m.index), dtype=float)
    tod, dow = time_slots(m.index, config.slot_minutes)
    out = []
    for key in m.columns:
        b = fit_buckets(m[key].to_numpy(float), minutes, tod, dow, config=config, step=1.0)
        out.append(fit_at(b, float(len(m.index)), config=config))
    return out


def score_last(m: pd.DataFrame, profiles: list, config) -> None:
    tail = m.iloc[-90:]
    tod, dow = time_slots(tail.index, config.slot_minutes)
    n, t, w = len(m.columns), len(tail.index), len(config.windows_minutes)
    expected = np.stack([p.expected_for_slots(tod, dow, 1.0) for p in profiles])
    alpha = np.broadcast_to(np.stack([p.alpha for p in profiles]).T[:, :, None], (w, n, t))
    shift = np.broadcast_to(np.stack([evidence_shift(p, config) for p in profiles]).T[:, :, None], (w, n, t))
    score_arrays(tail.index, list(m.columns), tail.to_numpy(float).T, expected, alpha,
                 np.zeros((n, t), bool), np.full((n, t), config.min_ratio), config, 1.0, with_upper=False,
                 shift=shift)  # fmt: skip


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=22)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    m = matrix(args.days)
    print(f"stream: {args.days} days, {len(m.columns)} series x {len(m.index):,} minutes", flush=True)
    configs = {"calibrated": TREMOR_CONFIG, "uncalibrated": replace(TREMOR_CONFIG, calibrate=False)}
    stored = {name: fit_all(m, cfg) for name, cfg in configs.items()}
    work = {
        "replay": lambda cfg: detect_frame(m, config=cfg),
        "fit": lambda cfg: fit_all(m, cfg),
        "score": lambda cfg: [score_last(m, stored[n], cfg) for n, c in configs.items() if c is cfg],
    }
    for label, fn in work.items():
        seconds = {name: [] for name in configs}
        for _ in range(args.repeat):
            for name, cfg in configs.items():  # alternating: the machine's noise falls on both
                seconds[name].append(timed(lambda cfg=cfg, fn=fn: fn(cfg)))
        med = {name: statistics.median(v) for name, v in seconds.items()}
        ratio = med["calibrated"] / med["uncalibrated"]
        print(f"{label:7s} calibrated {med['calibrated']:8.3f} s   uncalibrated {med['uncalibrated']:8.3f} s   "
              f"ratio {ratio:.2f}x", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
