"""5. Replay: `manage.py replay` over a 22-day stream of ~60,000 reports (smoke: 2 days).

The stream is 22 days of ordinary reports for one service (about 2,500 a day)
with the 14 Feb 2023 EU outage on day 21. Reference: PostgreSQL COPY of the
same CSV into a scratch table, the floor of merely loading those rows.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pandas as pd
import psycopg

from demo import scenarios

from .lib.context import Context
from .lib.results import Figure, figure
from .lib.servers import ROOT, peak_rss_kib

SERVICE = "bench-replay"


def stream(days: int) -> pd.DataFrame:
    start = pd.Timestamp("2023-01-24T00:00Z")
    end = start + pd.Timedelta(days=days)
    background = scenarios.background(service=SERVICE, start=start, end=end, daily_reports=2500, seed=22)
    outage = scenarios.outage_2023_02_14(onset=end - pd.Timedelta(hours=30), service=SERVICE, seed=23)
    frame = scenarios.concat(background, outage)
    return frame[frame["observed_at"] < end]


def _copy_seconds(ctx: Context, path) -> float:
    with psycopg.connect(ctx.stack.database_url) as conn:
        conn.execute(
            "CREATE TEMP TABLE replay_copy (observed_at timestamptz, service text, country text,"
            " code text, feature text)"
        )
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY replay_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            copy.write(path.read_bytes())
        return time.perf_counter() - started


def run(ctx: Context) -> list[Figure]:
    days = 2 if ctx.smoke else 22
    frame = stream(days)
    path = ctx.workdir / "replay.csv"
    scenarios.to_csv(frame, path)
    out = ctx.workdir / "incidents.json"
    cmd = [sys.executable, "manage.py", "replay", str(path), "--create-services", "--output", str(out)]
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=ctx.stack.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    while proc.poll() is None and time.perf_counter() - started < 900:
        peak = max(peak, peak_rss_kib(proc.pid))
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=60)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"manage.py replay failed:\n{stdout}\n{stderr[-3000:]}")
    reference = _copy_seconds(ctx, path)
    incidents = json.loads(out.read_text())["incidents"]
    ctx.peaks.append(("memory.replay_command_peak_rss", peak, 0))
    return [
        figure("replay.seconds", elapsed, "s", reference=reference),
        figure("replay.reports_per_s", len(frame) / elapsed, "reports/s", reference=len(frame) / reference),
        figure("replay.reports", len(frame), "reports"),
        figure("replay.incidents_found", len(incidents), "incidents"),
    ]
