"""What every benchmark gets: the running stack, the web server, the run's size."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .results import Figure
from .servers import Gunicorn, Stack

LUA = Path(__file__).resolve().parents[1] / "lua"


@dataclass
class Context:
    stack: Stack
    smoke: bool
    workdir: Path
    partner_key: str = ""
    # Tick sizes over the time budget still get a first-after-flush and a warm tick (bench/run --large).
    large: bool = False
    web: Gunicorn | None = None
    figures: list[Figure] = field(default_factory=list)
    # (figure name, peak RSS KiB, RSS KiB when idle or 0) of the processes the benchmarks ran.
    peaks: list[tuple[str, int, int]] = field(default_factory=list)

    def seconds(self, full: float, smoke: float) -> float:
        return smoke if self.smoke else full


def wrk(url: str, script: str, args: list[str], *, connections: int, seconds: float, threads: int = 2) -> dict:
    """Run wrk against a loopback URL; returns requests, duration, p50/p99 (µs), statuses."""
    assert url.startswith("http://127.0.0.1:"), "benchmarks only load loopback servers"
    cmd = ["wrk", "-t", str(min(threads, connections)), "-c", str(connections), "-d", f"{max(1, round(seconds))}s"]
    cmd += ["--timeout", "10s", "--latency", "-s", str(LUA / script), url, "--", *args]
    started = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    for line in out.splitlines():
        if line.startswith("WRKJSON "):
            data = json.loads(line[len("WRKJSON ") :])
            data["statuses"] = {int(k): v for k, v in data["statuses"].items()}
            data["wall_s"] = time.monotonic() - started
            return data
    raise RuntimeError("wrk printed no result:\n" + out)
