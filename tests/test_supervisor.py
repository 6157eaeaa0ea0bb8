"""`./tremor up`'s supervisor: every Procfile process under supervisord, restarted when killed,
all stopped (Redis included) when supervisord is interrupted; their logs are JSON lines.

Real processes on free ports with their own Redis and a throwaway SQLite file.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ops.supervise import read_procfile
from tests.support.pgcluster import free_port
from tests.support.servers import ROOT, app_env, manage, once_per_suite_run, wait_for_port

SUPERVISORD = Path(sys.executable).parent / "supervisord"
SUPERVISORCTL = Path(sys.executable).parent / "supervisorctl"

pytestmark = once_per_suite_run("brings its own Redis and SQLite file")


class Stack:
    def __init__(self, tmp: Path) -> None:
        self.tmp, self.conf, self.logs = tmp, tmp / "supervisord.conf", tmp / "log"
        self.web_port, self.redis_port = free_port(), free_port()
        self.env = app_env(
            DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
            REDIS_PORT=str(self.redis_port),
            REDIS_DIR=str(tmp),  # its AOF (the intake log's durability)
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            TREMOR_BIND=f"127.0.0.1:{self.web_port}",
            TREMOR_BEAT_SCHEDULE=str(tmp / "celerybeat-schedule"),
            TREMOR_CACHE_PREFIX=f"supervised-{self.redis_port}",
            TREMOR_WORKER_CONCURRENCY="1",
            WEB_CONCURRENCY="1",
            PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        )
        self.env.pop("TREMOR_PROCESS", None)

    def start(self) -> "Stack":
        manage(self.env, "migrate", "--noinput", "-v", "0")
        subprocess.run([sys.executable, "-m", "ops.supervise", str(self.conf), "--logs", str(self.logs)],
                       cwd=ROOT, check=True)  # fmt: skip
        self.proc = subprocess.Popen([str(SUPERVISORD), "-c", str(self.conf)], cwd=ROOT, env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        self.wait_running(set(read_procfile()))
        return self

    def ctl(self, *args: str) -> str:
        result = subprocess.run([str(SUPERVISORCTL), "-c", str(self.conf), *args], capture_output=True, text=True)
        return result.stdout

    def states(self) -> dict[str, tuple[str, int]]:
        out = {}
        for line in self.ctl("status").splitlines():
            parts = line.split()
            if len(parts) >= 2:
                pid = int(parts[3].rstrip(",")) if len(parts) > 3 and parts[2] == "pid" else 0
                out[parts[0]] = (parts[1], pid)
        return out

    def wait_running(self, names: set[str], *, not_pid: dict[str, int] | None = None, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = self.states()
            if all(states.get(n, ("", 0))[0] == "RUNNING" and states[n][1] != (not_pid or {}).get(n) for n in names):
                return
            time.sleep(0.3)
        raise TimeoutError(f"not all of {names} running: {self.states()}\n{self.log('supervisord')}")

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log" if name != "supervisord" else self.tmp / "supervisord.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_log(self, name: str, text: str, *, after: int = 0, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log(name)[after:]:
                return
            time.sleep(0.2)
        raise TimeoutError(f"{text!r} not in the {name} log:\n{self.log(name)[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
            self.proc.wait(timeout=60)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose; only supervisord could reap it.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


@pytest.fixture
def stack(tmp_path):
    s = Stack(tmp_path).start()
    yield s
    s.stop()


def get(url: str) -> tuple[int, bytes]:
    # The first request waits for a gunicorn worker still importing Django (two cores, five processes starting).
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_a_killed_worker_comes_back_and_interrupting_supervisord_stops_every_process(stack):
    stack.wait_log("worker", "ready.")
    before = stack.states()
    assert set(before) == set(read_procfile()) == {"web", "worker", "webhooks", "beat", "flusher", "redis"}
    worker_pid = before["worker"][1]
    logged = len(stack.log("worker"))
    os.kill(worker_pid, signal.SIGKILL)
    stack.wait_running({"worker"}, not_pid={"worker": worker_pid})
    stack.wait_log("worker", "ready.", after=logged)
    assert stack.states()["worker"][1] != worker_pid
    wait_for_port(stack.web_port, timeout=30)
    assert get(f"http://127.0.0.1:{stack.web_port}/health/ready/")[0] == 200

    pids = {name: pid for name, (_, pid) in stack.states().items()}
    stack.stop()
    assert stack.proc.returncode == 0
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert {name for name, pid in pids.items() if alive(pid)} == set()  # Redis included
    import socket

    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", stack.redis_port)) != 0


def test_web_workers_and_beat_log_json_lines_with_time_level_and_logger(stack):
    wait_for_port(stack.web_port, timeout=30)
    status, _ = get(f"http://127.0.0.1:{stack.web_port}/api/v1/services/")
    assert status == 200
    stack.wait_log("worker", "ready.")
    stack.wait_log("webhooks", "ready.")
    stack.wait_log("beat", "beat: Starting")
    stack.wait_log("flusher", "started")
    stack.wait_log("web", "/api/v1/services/")
    for name in ("web", "worker", "webhooks", "beat", "flusher"):
        lines = [line for line in stack.log(name).splitlines() if line.strip()]
        assert lines, name
        for line in lines:
            event = json.loads(line)  # every line, not just some
            assert {"time", "level", "logger", "message"} <= set(event), (name, event)
            assert event["role"] == name
    access = [json.loads(line) for line in stack.log("web").splitlines() if "/api/v1/services/" in line]
    assert access[0]["logger"] == "gunicorn.access" and access[0]["level"] == "INFO"
    assert access[0]["time"].endswith(("Z", "+00:00"))
