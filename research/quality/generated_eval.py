"""Generated families through the full pipeline (slices -> detector -> lifecycle -> scope).

A detector is `score(matrix, since) -> Scored` (analytics.verdicts.Scored).
Per family: recall, false incidents per 100 service-weeks, detection latency
(median, max), scope accuracy (regions exact; codes right).

- found: an incident whose detection falls inside the outage (onset .. end of
  its last phase); latency = detection - onset.
- false incident: any other incident opened in the evaluated week (for a
  relapse outage, a second incident instead of a new phase counts as false).
- regions exact: the scope's regions equal the affected regions, or, for a
  worldwide outage, the incident is not regional or lists every region.
- codes right: the outage's code is the (only) code in scope.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from . import families, ports


def run_one(sc: families.Scenario, score: Callable) -> dict:
    m = sc.matrix
    scored = score(m, sc.eval_start)
    row0 = int(m.index.searchsorted(sc.eval_start))
    incidents = ports.incidents_over(scored, from_row=row0)
    incidents = [s for s in incidents if s.detected_at >= sc.eval_start]
    out = {"family": sc.family, "seed": sc.seed, "weeks": sc.service_weeks, "false": 0, **sc.params}
    o = sc.outage
    hit = None
    for s in incidents:
        inside = o is not None and o["onset"] <= s.detected_at <= o["end"]
        if inside and hit is None:
            hit = s
        else:
            out["false"] += 1
    if o is not None:
        out.update(mult=o["mult"], plateau=o["plateau_per_min"])
        out["found"] = hit is not None
        if hit is not None:
            out["latency"] = (hit.detected_at - o["onset"]) / pd.Timedelta(minutes=1)
            scope, _shares, regional = ports.scope_of(hit)
            regs = sorted(scope.get("regions", []))
            if o["worldwide"]:
                out["regions_ok"] = (not regional) or regs == sorted(o["regions"])
            else:
                out["regions_ok"] = regs == sorted(o["regions"])
            out["codes_ok"] = scope.get("codes", []) == [o["code"]]
            out["phases"] = len(hit.phases)
    return out


def summarise(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    out = []
    for fam, g in df.groupby("family", sort=False):
        r = {"family": fam, "n": len(g), "false_per_100wk": 100.0 * g["false"].sum() / g["weeks"].sum()}
        if "found" in g and g["found"].notna().any():
            f = g[g["found"] == True]  # noqa: E712
            r["recall"] = 100.0 * g["found"].mean()
            r["lat_med"] = float(f["latency"].median()) if len(f) else np.nan
            r["lat_max"] = float(f["latency"].max()) if len(f) else np.nan
            r["regions_ok"] = 100.0 * f["regions_ok"].mean() if len(f) else np.nan
            r["codes_ok"] = 100.0 * f["codes_ok"].mean() if len(f) else np.nan
        out.append(r)
    s = pd.DataFrame(out).set_index("family")
    return s


def run(score: Callable, seeds: range, fams=families.FAMILIES, progress=True) -> list[dict]:
    rows = []
    t0 = time.perf_counter()
    for fam in fams:
        for seed in seeds:
            rows.append(run_one(families.generate(fam, seed), score))
        if progress:
            print(f"  {fam}: {time.perf_counter() - t0:.0f}s", flush=True)
    return rows


# ------------------------------------------------------------ the detectors under test
def current_scorer(config):
    def score(matrix, since):
        r = ports.detect_frame(matrix, config=config, since=since)
        return ports.Scored(index=r.index, keys=r.keys, counts=r.counts.T, expected=r.expected.T,
                            level=r.level.T, evidence=r.evidence.T, elevated=r.elevated.T)  # fmt: skip

    return score


def candidate_scorer(config):
    from . import candidate

    def score(matrix, since):
        r = candidate.detect_frame(matrix, config=config, with_upper=False, since=since)
        return ports.Scored(index=r.index, keys=r.keys, counts=r.counts.T, expected=r.expected.T,
                            level=r.level.T, evidence=r.evidence.T, elevated=r.elevated.T)  # fmt: skip

    return score
