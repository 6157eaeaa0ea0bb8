"""Print NAB figures of the Tremor detector on the realTweets subset.

Usage (from the repo root):  python bench/nab_score.py [NAB_DIR]
NAB_DIR defaults to $NAB_DIR, else ../shared/nab beside the repository (expects data/realTweets/*.csv and
labels/windows.json). Uses research.config.NAB_CONFIG, unmodified.
"""

from __future__ import annotations

import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # run as a plain script, no install needed

from research.config import NAB_CONFIG  # noqa: E402
from research.nab import PROFILES, default_nab_dir, evaluate  # noqa: E402


def main(argv: list[str]) -> int:
    nab_dir = argv[1] if len(argv) > 1 else str(default_nab_dir())
    data_dir = os.path.join(nab_dir, "data", "realTweets")
    windows = os.path.join(nab_dir, "labels", "windows.json")
    t0 = time.perf_counter()
    res = evaluate(data_dir, windows, NAB_CONFIG)
    elapsed = time.perf_counter() - t0

    names = list(PROFILES)
    print(f"{'file':28s} {'tp':>3s} {'fn':>3s} {'fp':>3s} " + " ".join(f"{n:>18s}" for n in names))
    for fname, parts in res["details"].items():
        std = parts["standard"]
        raw = " ".join(f"{parts[n].score:18.3f}" for n in names)
        print(f"{fname:28s} {std.tp:3d} {std.fn:3d} {std.fp:3d} {raw}")
    print("-" * (40 + 19 * len(names)))
    print(f"{'NAB normalised score':40s} " + " ".join(f"{res['normalised'][n]:18.2f}" for n in names))
    print(f"run time: {elapsed:.1f} s for {len(res['details'])} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
