"""NAB figures for the current detector (TREMOR_CONFIG, NAB_CONFIG) and the candidate.

cd /work/wt13 && nice -n 10 python -m research.quality.run_nab [--thresholds 5,6,7,8,10]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import numpy as np

from . import candidate as cand
from . import nab_eval, ports

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
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    ths = [float(x) for x in args.knobs.split(",")]
    tweets = nab_eval.load("realTweets")
    wins = nab_eval.windows()
    report = {}
    t0 = time.perf_counter()
    if not args.skip_current:
        for label, cfg in (("TREMOR_CONFIG", ports.TREMOR_CONFIG), ("NAB_CONFIG", ports.NAB_CONFIG)):
            f = nab_eval.current_flags(cfg)
            flags = {(n, 0): f(n, s) for n, s in tweets.items()}
            raw = nab_eval.score_grid(tweets, flags, [0], wins)
            report[label] = {"tweets": nab_eval.loo(tweets, raw, [0]), "artificial": nab_eval.artificial(f)}
            print(label, json.dumps(_short(report[label]), default=str), f"{time.perf_counter() - t0:.0f}s", flush=True)
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
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=1, default=str)


def _short(r):
    out = {}
    for k, v in r.items():
        if isinstance(v, dict) and "standard" in v:
            out[k] = {p: {"loo": round(v[p]["loo"], 1), "in": round(v[p]["in_sample"], 1),
                          "chosen": sorted(set(map(str, v[p]["chosen"].values())))} for p in v}  # fmt: skip
        else:
            out[k] = v
    return out


if __name__ == "__main__":
    main()
