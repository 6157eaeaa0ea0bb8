"""The soak test (bench/soak.py) in its short version: a few seconds of paced load on the intake log.

The full version runs 60 s: `.venv/bin/python -m bench.soak`.
"""

import json
import subprocess
import sys

from tests.support.servers import ROOT, once_per_suite_run


@once_per_suite_run("brings its own database, Redis, gunicorn and worker")
def test_a_short_soak_loses_nothing_and_answers_no_5xx(tmp_path):
    out = tmp_path / "soak.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.soak",
            "--seconds",
            "4",
            "--calibrate",
            "2",
            "--threads",
            "8",
            "--tick",
            "1",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.exists(), result.stdout + result.stderr
    figures = json.loads(out.read_text())
    print(json.dumps(figures))
    assert result.returncode == 0, result.stdout + result.stderr
    assert figures["ok"] is True
    assert figures["requests"] > 0 and figures["capacity_rps"] > 0
    assert figures["server_errors_5xx"] == 0
    assert figures["lost"] == 0 and figures["extra_rows"] == 0 and figures["duplicate_ids"] == 0
    assert figures["stored_total"] == figures["acknowledged_total"]
    # On the durable log: every 201 named its stream entry, stored once by the flusher.
    assert figures["acknowledged_from_log"] == figures["acknowledged_total"] > 0
    assert figures["duplicate_rows"] == 0
    assert figures["latency_ms"]["p99"] > 0
    assert figures["ticks_sent"] > 0  # the bucketing tick ran during the load
