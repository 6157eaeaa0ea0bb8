"""A throwaway PostgreSQL 15 cluster on 127.0.0.1, for the test suite and the fault tests.

`./tremor test` starts one for the PostgreSQL pass of the suite (the CLI below);
tests/test_faults_postgres.py starts its own to stop and restart it under load.
initdb refuses to run as root, so as root the cluster belongs to the `postgres`
system user (Debian's package creates it) and lives in its own /tmp directory.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("TREMOR_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "tremor"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    def __init__(self, base: Path | None = None, port: int | None = None) -> None:
        self.base = Path(base) if base else Path(tempfile.mkdtemp(prefix="tremor-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        self.port = port or free_port()
        self._as_root = os.geteuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, cwd="/")

    def init(self) -> PgCluster:
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL 15 not found in {PG_BIN}: apt-get install postgresql")
        self.base.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C.UTF-8",
        )
        return self

    def start(self, timeout: int = 30) -> PgCluster:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base} "
            # A test cluster: durability against OS crashes is not what is tested.
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", str(timeout), "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def url(self, dbname: str = "tremor") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, dbname: str = "tremor") -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        return self.url(dbname)

    def destroy(self) -> None:
        if self.data.exists():
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


def main(argv: list[str]) -> int:
    """python -m tests.support.pgcluster start DIR  -> prints the DATABASE_URL
    python -m tests.support.pgcluster stop DIR"""
    action, base = argv[0], Path(argv[1])
    if action == "start":
        cluster = PgCluster(base).init().start()
        (base / "port").write_text(str(cluster.port))
        print(cluster.url())
        return 0
    if action == "stop":
        port = int((base / "port").read_text()) if (base / "port").exists() else None
        PgCluster(base, port=port).destroy()
        return 0
    print(main.__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
