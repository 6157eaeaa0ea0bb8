"""Calibration check: on quiet generated data, the share of buckets whose
predictive tail probability is below p should be close to (at most) p.

Quiet data = the trap families (no outage) over their evaluated week, every
slice column; per trailing window, rows sampled one window length apart.
The candidate's mixture tail P(X >= S) is reported raw (before the per-series
self-calibration of the threshold). A discrete distribution cannot put mass
exactly at p, so shares a little below p are expected on sparse slices;
shares well above p mean the tails are too thin (false alarms).

    cd /work/wt13 && nice -n 10 python -m research.quality.calibration --seeds 200-203
"""

from __future__ import annotations

import argparse

import numpy as np

from . import candidate, families

LEVELS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5)


def shares(seeds: range, fams=families.TRAP_FAMILIES, config=candidate.DEFAULT) -> dict:
    """{window_minutes: {p: share}} plus by scale band, pooled over scenarios."""
    hits = {w: np.zeros(len(LEVELS)) for w in config.windows_minutes}
    n = {w: 0 for w in config.windows_minutes}
    by_scale = {}
    for fam in fams:
        for seed in seeds:
            sc = families.generate(fam, seed)
            r = candidate.detect_frame(sc.matrix, config=config, with_upper=False)
            row0 = int(sc.matrix.index.searchsorted(sc.eval_start))
            scale = sc.params["scale"]
            band = "scale<2/min" if scale < 2 else ("scale<100/min" if scale < 100 else "scale>=100/min")
            for wi, w in enumerate(config.windows_minutes):
                stride = max(1, int(w))
                pv = r.pvalue[wi][:, row0::stride].ravel()
                h = np.array([(pv <= p).sum() for p in LEVELS], float)
                hits[w] += h
                n[w] += pv.size
                b = by_scale.setdefault(band, [np.zeros(len(LEVELS)), 0])
                b[0] += h
                b[1] += pv.size
    out = {f"{w:g} min": {f"{p:g}": hits[w][i] / n[w] for i, p in enumerate(LEVELS)} for w in config.windows_minutes}
    out.update({band: {f"{p:g}": v[0][i] / v[1] for i, p in enumerate(LEVELS)} for band, v in by_scale.items()})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="200-202")
    args = ap.parse_args()
    a, b = (int(x) for x in args.seeds.split("-"))
    res = shares(range(a, b + 1))
    print("share of quiet buckets with mixture tail p <= level (ideal: <= level, close to it)")
    print(f"{'':>16s} " + " ".join(f"{p:>9g}" for p in LEVELS))
    for k, v in res.items():
        print(f"{k:>16s} " + " ".join(f"{x:9.2e}" for x in v.values()))


if __name__ == "__main__":
    main()
