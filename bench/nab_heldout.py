"""Held-out checks of the NAB flag layer: leave-one-file-out and a 4/3 split.

Usage (from the repo root):  python bench/nab_heldout.py [NAB_DIR]

The detector (research.config.NAB_CONFIG) runs once per file; then a grid
over the flag layer's round-3 knobs (prominence window, quantile and ratio,
likelihood threshold, re-arm) is scored. For each held-out file, the grid point
with the best standard score on the *other* files is scored on it; the
held-out raw scores are then normalised together. The grid spans everything
tried in round 3 (analytics/NAB_TUNING.md). The NB detector's own knobs
(dispersion quantile, evidence windows) and the likelihood's cap / short /
long windows are NAB_CONFIG's and are not re-tuned here (round 2's held-out
check re-tuned the latter).
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from dataclasses import replace

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # run as a plain script, no install needed

from analytics.core.detection import detect_series  # noqa: E402
from research.config import NAB_CONFIG  # noqa: E402
from research.nab import (  # noqa: E402
    count_prominence,
    default_nab_dir,
    detection_to_flags,
    evidence_likelihood,
    load_series,
    load_windows,
    normalised_scores,
    score_all_profiles,
)

GRID = {
    "prominence_minutes": (10.0, 15.0, 20.0, 30.0),
    "prominence_quantile": (0.99, 0.995, 0.998),
    "prominence_ratio": (1.0, 1.25, 1.5, 1.75, 2.0),
    "likelihood_threshold": (0.5, 1.0, 1.5, 2.0, 2.5),
    "rearm_minutes": (1440.0, 2160.0),
}
TRAIN_4 = ("AAPL", "CRM", "FB", "GOOG")  # the 4/3 split used since the first NAB notes


def fmt(scores: dict) -> str:
    return " / ".join(f"{v:.1f}" for v in scores.values())


def main(argv: list[str]) -> int:
    nab_dir = argv[1] if len(argv) > 1 else str(default_nab_dir())
    data_dir = os.path.join(nab_dir, "data", "realTweets")
    windows = load_windows(os.path.join(nab_dir, "labels", "windows.json"))
    t0 = time.perf_counter()
    dets = {}
    for name in sorted(f for f in os.listdir(data_dir) if f.endswith(".csv")):
        dets[name] = detect_series(load_series(os.path.join(data_dir, name)), config=NAB_CONFIG.detector)
    files = list(dets)
    keys = list(GRID)
    lik = {f: evidence_likelihood(d, NAB_CONFIG) for f, d in dets.items()}  # no grid knob changes it
    prom = {}  # (file, minutes, quantile) -> prominence, shared by the other knobs
    scores = {}  # grid point -> {file: {profile: FileScore}}
    for point in itertools.product(*GRID.values()):
        cfg = replace(NAB_CONFIG, **dict(zip(keys, point, strict=True)))
        scores[point] = {}
        for f, d in dets.items():
            key = (f, cfg.prominence_minutes, cfg.prominence_quantile)
            if key not in prom:
                prom[key] = count_prominence(d, cfg)
            rows = detection_to_flags(d, cfg, likelihood=lik[f], prominence=prom[key])
            scores[point][f] = score_all_profiles(d.index, windows.get(f, []), d.index[rows])

    def norm(point: tuple, on: list[str]) -> dict:
        return normalised_scores({f: scores[point][f] for f in on})

    def best(on: list[str]) -> tuple:
        return max(scores, key=lambda p: norm(p, on)["standard"])

    current = tuple(getattr(NAB_CONFIG, k) for k in keys)
    print("profiles: standard / reward_low_FP_rate / reward_low_FN_rate")
    if current in scores:
        print(f"NAB_CONFIG, all 7 files (in-sample):      {fmt(norm(current, files))}")
    print(f"best grid point on all 7 (in-sample):     {fmt(norm(best(files), files))}  {best(files)}")
    held = {}
    for f in files:
        point = best([g for g in files if g != f])
        held[f] = scores[point][f]
        print(f"  leave out {f:28s} tuned {point}")
    print(f"leave-one-file-out, held-out files:       {fmt(normalised_scores(held))}")
    train = [f for f in files if any(t in f for t in TRAIN_4)]
    test = [f for f in files if f not in train]
    point = best(train)
    print(f"4/3 split, tuned on {', '.join(TRAIN_4)}: {fmt(norm(point, train))}  {point}")
    print(f"4/3 split, scored on the other 3:         {fmt(norm(point, test))}")
    print(f"run time: {time.perf_counter() - t0:.1f} s, {len(scores)} grid points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
