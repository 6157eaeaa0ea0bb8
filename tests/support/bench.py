"""Running bench/run from a test: its own PostgreSQL and Redis, stopped even when it times out."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_bench(*args: str, output: Path, timeout: float) -> str:
    """`bench/run ARGS --output OUTPUT`; fails the test if it crashes or takes over `timeout` s."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    # Its own session, so a timeout stops bench/run's servers too (SIGTERM unwinds them).
    proc = subprocess.Popen(
        [str(ROOT / "bench" / "run"), *args, "--output", str(output)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        text, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        text, _ = proc.communicate(timeout=60)
        pytest.fail(f"bench/run {' '.join(args)} took over {timeout:.0f} s:\n" + text[-4000:])
    assert proc.returncode == 0, text[-6000:]
    return text
