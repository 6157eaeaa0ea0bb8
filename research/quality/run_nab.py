"""NAB figures for the product (TREMOR_CONFIG, incident openings as nab_evaluate scores them) and the candidate.

    DEBUG=1 nice -n 10 python -m research.quality.run_nab [--set weekly=True] [--skip-candidate]

The product is also scored on the same files summed to 30-minute rows (a view
of step independence, not new data).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import numpy as np

from . import candidate as cand
from . import nab_eval, ports
from .run_generated import parse_overrides

KNOB = "false_episodes_per_day"  # the knob swept for leave-one-file-out


def flags_of(r, cfg: cand.CandidateConfig) -> np.ndarray:
    """Incident openings of one detected series under `cfg` (only the calibration and level steps re-run)."""
    ev = (-np.log10(np.clip(r.pvalue, 1e-300, 1.0))).max(axis=0)
    theta = cand.calibrated_threshold(ev, r.minutes, cfg)
    _, lv, el = cand.levels(r.pvalue, r.excess, r.minutes, cfg, theta)
    return nab_eval.openings(r, lv[0], el[0])


def candidate_runs(series: dict, cfg: cand.CandidateConfig, knobs: list[float]):
    """Flags per (file, knob): the detector runs once per file."""
    flags = {}
    for name, s in series.items():
        r = cand.detect_frame(s.to_frame(ports.TOTAL), config=cfg, with_upper=False)
        for k in knobs:
            flags[(name, k)] = flags_of(r, replace(cfg, **{KNOB: k}))
    return flags


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--knobs", default="1e-2,1e-3,1e-4,1e-5,1e-6")
    ap.add_argument("--skip-current", action="store_true")
    ap.add_argument("--skip-candidate", action="store_true")
    ap.add_argument("--set", action="append", default=[], help="TREMOR_CONFIG field=value (repeatable)")
    ap.add_argument("--product-grid", default="", help=f"{KNOB} values for the product's LOO, e.g. 1e-2,1e-3,1e-4")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    ths = [float(x) for x in args.knobs.split(",")]
    tweets = nab_eval.load("realTweets")
    wins = nab_eval.windows()
    report = {}
    t0 = time.perf_counter()
    if not args.skip_current:
        cfg = replace(ports.TREMOR_CONFIG, **parse_overrides(args.set))
        f = nab_eval.current_flags(cfg)
        label = f"TREMOR_CONFIG {args.set}"
        report[label] = {"artificial": nab_eval.artificial(f)}
        # The product's knob grid for leave-one-file-out (`--product-grid`); its fixed default is knob 0.
        grid = [0, *(float(x) for x in args.product_grid.split(","))] if args.product_grid else [0]
        for view, files in (("tweets", tweets), ("tweets_30min", nab_eval.resampled(tweets, 30))):
            flags = {}
            for k in grid:
                fk = f if k == 0 else nab_eval.current_flags(replace(cfg, **{KNOB: k}))
                flags.update({(n, k): fk(n, s) for n, s in files.items()})
            raw = nab_eval.score_grid(files, flags, grid, wins)
            report[label][view] = nab_eval.loo(files, raw, [0])
            if len(grid) > 1:
                report[label][view + "_grid"] = nab_eval.loo(files, raw, grid[1:])
        print(label, json.dumps(_short(report[label]), default=str), f"{time.perf_counter() - t0:.0f}s", flush=True)
    if args.skip_candidate:
        _write(args.json, report)
        return
    flags = candidate_runs(tweets, cand.DEFAULT, ths)
    raw = nab_eval.score_grid(tweets, flags, ths, wins)
    res = nab_eval.loo(tweets, raw, ths)
    default = getattr(cand.DEFAULT, KNOB)
    fixed = nab_eval.loo(tweets, raw, [default]) if default in ths else None

    def art_f(name, s):
        r = cand.detect_frame(s.to_frame(ports.TOTAL), config=cand.DEFAULT, with_upper=False)
        return flags_of(r, cand.DEFAULT)

    report["candidate"] = {"tweets_grid": res, "tweets_fixed_default": fixed, "artificial": nab_eval.artificial(art_f)}
    per = {th: {p: round(nab_eval._normalise(sum(raw[(n, th)][p].score for n in tweets), 21, p), 1)
                for p in nab_eval.PROFILE_NAMES} for th in ths}  # fmt: skip
    report["candidate"]["per_threshold_all7"] = per
    print("candidate", json.dumps(_short(report["candidate"]), default=str), f"{time.perf_counter() - t0:.0f}s")
    _write(args.json, report)


def _write(path, report) -> None:
    if path:
        with open(path, "w") as fh:
            json.dump(report, fh, indent=1, default=str)


def _short(r):
    out = {}
    for k, v in r.items():
        if isinstance(v, dict) and "standard" in v:
            out[k] = {p: {"loo": round(v[p]["loo"], 1), "in": round(v[p]["in_sample"], 1),
                          "chosen": sorted(set(map(str, v[p]["chosen"].values()))),
                          "tp_fn_fp": v[p]["loo_tp_fn_fp"]} for p in v}  # fmt: skip
        else:
            out[k] = v
    return out


if __name__ == "__main__":
    main()
