"""Real server processes for the fault, abuse and soak tests: redis-server, gunicorn, Celery.

Everything binds to 127.0.0.1 on a free port and is stopped by the test that
started it; each helper only ever signals the process it started.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from .pgcluster import free_port

ROOT = Path(__file__).resolve().parents[2]
# httpx logs every request at INFO: thousands of lines in a load test.
logging.getLogger("httpx").setLevel(logging.WARNING)


def once_per_suite_run(reason: str = "independent of the suite's database"):
    """Skip in the SQLite pass when a PostgreSQL pass follows: the test brings its own stores."""
    from pytest import mark

    passes = os.environ.get("TREMOR_TEST_DBS", "sqlite postgresql").split()
    return mark.skipif(
        os.environ.get("TREMOR_TEST_DB") == "sqlite" and "postgresql" in passes, reason=f"{reason}: run once"
    )


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def app_env(**overrides: str) -> dict[str, str]:
    """Environment of a production-like Tremor process on loopback HTTP.

    config.settings_test is production settings with static files served from the
    finders (no collectstatic run needed); TREMOR_HTTPS=1 turns TLS behaviour back on.
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DEBUG": "0",
        "TREMOR_HTTPS": "0",
        "TREMOR_STATIC_FINDERS": "1",
        "SECRET_KEY": "fault-tests-" + "k" * 50,
        # Every client of these tests is 127.0.0.1 telling reporters apart by User-Agent: the
        # per-network cap (tests/test_network_dedupe.py) would count five of them.
        "TREMOR_DEDUPE_PER_NETWORK": "1000000",
        "PYTHONPATH": str(ROOT),
    }
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class Process:
    """A child process with its output in a log file."""

    def __init__(self, cmd: list[str], env: dict[str, str], log: Path) -> None:
        self.cmd, self.env, self.log_path = cmd, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> Process:
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text: str, timeout: float = 30.0, after: int = 0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log()[after:]:
                return
            if self.proc and self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise TimeoutError(f"{text!r} not in the log of {self.cmd[:4]}:\n{self.log()[-3000:]}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


class RedisServer(Process):
    """A private redis-server (not the suite's shared one), stoppable and restartable on its port."""

    def __init__(self, workdir: Path, port: int | None = None, *, aof: bool = False) -> None:
        self.port = port or free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(workdir)]
        # aof: as the Procfile runs it, every write fsynced before Redis answers (the intake log's durability).
        cmd += ["--save", ""] + (["--appendonly", "yes", "--appendfsync", "always"] if aof else ["--appendonly", "no"])
        super().__init__(cmd, dict(os.environ), workdir / f"redis-{self.port}.log")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        super().start()
        wait_for_port(self.port)
        return self


@contextmanager
def cache_on(redis: RedisServer, *, prefix: str):
    """The default cache on `redis` (as configured in settings, other location) with the intake log's mode unread."""
    from django.core.cache import cache
    from django.test import override_settings

    from reports import intake_log

    caches = {
        "default": {
            "BACKEND": "config.redis_cache.RedisCache",
            "LOCATION": redis.url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    with override_settings(CACHES=caches):
        intake_log._mode = None
        cache.clear()
        yield redis
        intake_log._mode = None


class Gunicorn(Process):
    def __init__(self, env: dict[str, str], log: Path, workers: int = 2, threads: int = 1) -> None:
        self.port = free_port()
        cmd = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}"]
        cmd += ["--workers", str(workers), "--threads", str(threads), "--timeout", "30", "--graceful-timeout", "2"]
        super().__init__(cmd, env, log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        super().start()
        wait_for_port(self.port, timeout=30)
        return self


class CeleryWorker(Process):
    def __init__(self, env: dict[str, str], log: Path, app: str = "config", name: str = "w1") -> None:
        cmd = [sys.executable, "-m", "celery", "-A", app, "worker", "--pool", "solo", "--loglevel", "INFO"]
        cmd += ["--without-heartbeat", "--without-mingle", "--without-gossip", "-n", f"{name}@%h"]
        super().__init__(cmd, env, log)

    def start(self) -> CeleryWorker:
        super().start()
        self.wait_for_log("ready.")
        return self
