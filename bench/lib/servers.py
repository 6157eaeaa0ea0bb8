"""Throwaway servers for the benchmarks: PostgreSQL, Redis, gunicorn and Celery, all on 127.0.0.1.

PostgreSQL reuses tests/support/pgcluster.py (initdb as the `postgres` user when
run as root) but starts it with production durability (fsync and synchronous
commit on): the test cluster turns them off, which would flatter every write.
Each server records its processes so peak RSS (VmHWM) can be read before it stops.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.pgcluster import PgCluster, free_port  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"


def wait_for_port(port: int, *, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def terminate(proc: subprocess.Popen | None, *, timeout: float) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for_log(proc: subprocess.Popen, log: Path, text: str, *, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start:\n" + log.read_text(errors="replace"))
        time.sleep(0.1)


def peak_rss_kib(pid: int) -> int:
    """High-water mark of a live process's resident memory (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Postgres(PgCluster):
    """A PostgreSQL 15 cluster configured like a small production server."""

    def start(self, timeout: int = 30) -> Postgres:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base} -c max_connections=100 "
            "-c shared_buffers=512MB -c work_mem=64MB -c maintenance_work_mem=256MB "
            # Commits stay durable (fsync, synchronous_commit on: PostgreSQL's defaults).
            "-c max_wal_size=4GB -c checkpoint_timeout=15min"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", str(timeout), "start")
        return self


class Redis:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> Redis:
        self.base.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.base)]
            # As the Procfile runs it: an fsync per write, so intake acknowledges from the log (reports/intake_log.py).
            + ["--save", "", "--appendonly", "yes", "--appendfsync", "always"]
            + ["--logfile", str(self.base / "redis.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, proc=self.proc)
        return self

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


class Gunicorn:
    """`gunicorn config.wsgi` as in production (sync workers), with the given environment."""

    def __init__(self, env: dict[str, str], *, workers: int = 4, log: Path) -> None:
        self.env, self.workers, self.log_path = env, workers, log
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> Gunicorn:
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{self.port}"]
            + ["--workers", str(self.workers), "--worker-class", "sync", "--error-logfile", "-"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, proc=self.proc)
        deadline = time.monotonic() + 30
        while len(children(self.proc.pid)) < self.workers and time.monotonic() < deadline:
            time.sleep(0.1)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        return children(self.proc.pid) if self.proc else []

    def peak_worker_rss_kib(self) -> int:
        return max((peak_rss_kib(pid) for pid in self.worker_pids()), default=0)

    def stop(self) -> None:
        terminate(self.proc, timeout=20)
        self._log.close()


class Flusher:
    """`manage.py flush_intake`: moves the intake log into PostgreSQL (reports/flusher.py)."""

    def __init__(self, env: dict[str, str], *, log: Path, name: str = "bench") -> None:
        self.env, self.log_path, self.name = env, log, name
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> Flusher:
        self.log_path.write_text("")
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "flush_intake", "--name", self.name],
            cwd=ROOT, env={**self.env, "LOG_LEVEL": "INFO"}, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for_log(self.proc, self.log_path, "started", what="flusher", timeout=timeout)
        return self

    def stop(self) -> None:
        terminate(self.proc, timeout=30)
        self._log.close()


class CeleryWorker:
    """`celery -A config worker` with N prefork processes (or the solo pool for N == 0)."""

    def __init__(self, env: dict[str, str], *, concurrency: int, log: Path, queues: str = "celery") -> None:
        self.env, self.concurrency, self.log_path, self.queues = env, concurrency, log, queues
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> CeleryWorker:
        pool = ["--pool", "solo"] if self.concurrency == 0 else ["--pool", "prefork", "-c", str(self.concurrency)]
        self.log_path.write_text("")
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "celery"), "-A", "config", "worker", *pool, "-Q", self.queues, "--loglevel", "INFO"]
            + ["--without-heartbeat", "--without-mingle", "--without-gossip", "-n", f"bench{os.getpid()}@%h"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_for_log(self.proc, self.log_path, "ready.", what="Celery worker", timeout=timeout)
        return self

    def pids(self) -> list[int]:
        if not self.proc:
            return []
        return [self.proc.pid, *children(self.proc.pid)]

    def peak_rss_kib(self) -> int:
        """The largest process of the worker (the pool child that ran the task, or the solo worker)."""
        return max((peak_rss_kib(pid) for pid in self.pids()), default=0)

    def stop(self) -> None:
        terminate(self.proc, timeout=30)
        self._log.close()


class Stack:
    """PostgreSQL + Redis in a temp dir, and the environment Tremor's processes run with."""

    def __init__(self, *, keep: bool = False) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="tremor-bench-"))
        self.base.chmod(0o755)  # the cluster runs as `postgres` when we are root
        self.keep = keep
        self.pg = Postgres(self.base / "pg")
        self.redis = Redis(self.base / "redis")
        self.database_url = ""
        self.static_root: Path | None = None  # set for collectstatic'd runs (bench.settings)

    def start(self) -> Stack:
        self.pg.init().start()
        self.database_url = self.pg.create_database("tremor")
        self.redis.start()
        return self

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis.url,
            "DEBUG": "0",
            "TREMOR_HTTPS": "0",
            "SECRET_KEY": "bench-" + "x" * 50,
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            **({"TREMOR_BENCH_STATIC_ROOT": str(self.static_root)} if self.static_root else {}),
            **extra,
        }

    def stop(self) -> None:
        self.redis.stop()
        self.pg.stop("fast")
        if not self.keep:
            shutil.rmtree(self.base, ignore_errors=True)
