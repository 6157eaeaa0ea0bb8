"""The supervisord configuration of `./tremor up`, written from the Procfile.

    python -m ops.supervise CONF [--logs DIR] [--without NAME ...] [--hold NAME ...]

Every Procfile line becomes a supervisord program, restarted when it dies and stopped with
the others when supervisord stops (Ctrl-C). Output goes to supervisord's terminal, or with
--logs to DIR/NAME.log. A held process waits for `supervisorctl start NAME` (./tremor up holds
all but Redis until the database is migrated and seeded). Standard library only: it runs before Django is set up.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile"
_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")


def read_procfile(path: Path = PROCFILE) -> dict[str, str]:
    """{name: command}, in the file's order."""
    processes = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"{path}:{number}: not `name: command`")
        processes[match[1]] = match[2].strip()
    return processes


def _ini(value: str) -> str:
    return value.replace("%", "%%")  # supervisord expands %(...)s in its values


def supervisord_conf(
    *, run_dir: Path, logs: Path | None, without: set[str], hold: set[str] = frozenset(), procfile: Path = PROCFILE
) -> str:
    out = [
        "[supervisord]",
        "nodaemon=true",
        f"logfile={_ini(str(run_dir / 'supervisord.log'))}",
        f"pidfile={_ini(str(run_dir / 'supervisord.pid'))}",
        f"directory={_ini(str(ROOT))}",
        "",
        "[unix_http_server]",
        f"file={_ini(str(run_dir / 'supervisor.sock'))}",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{_ini(str(run_dir / 'supervisor.sock'))}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
    ]
    for name, command in read_procfile(procfile).items():
        if name in without:
            continue
        # `exec` under sh: the Procfile's ${VAR:-default} expand, and the pid supervised is the program's.
        shell = f"/bin/sh -c {shlex.quote('exec ' + command)}"
        out += [
            "",
            f"[program:{name}]",
            f"command={_ini(shell)}",
            f"directory={_ini(str(ROOT))}",
            f"autostart={'false' if name in hold else 'true'}",
            "autorestart=true",
            # Redis starts first and stops last: the others need it to start and to stop cleanly.
            f"priority={100 if name == 'redis' else 500}",
            "startsecs=3",
            "startretries=5",
            "stopasgroup=true",
            "killasgroup=true",
            "stopwaitsecs=15",
            "redirect_stderr=true",
            f"environment=TREMOR_PROCESS={_ini(name)}",
        ]
        if logs is None:
            out += ["stdout_logfile=/dev/stdout", "stdout_logfile_maxbytes=0"]
        else:
            out += [f"stdout_logfile={_ini(str(logs / f'{name}.log'))}", "stdout_logfile_maxbytes=50MB"]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("conf", type=Path, help="where to write the supervisord configuration")
    parser.add_argument("--logs", type=Path, help="one log file per process in this folder (default: the terminal)")
    parser.add_argument("--without", action="append", default=[], help="leave this Procfile process out")
    parser.add_argument("--hold", action="append", default=[], help="do not start this process with supervisord")
    args = parser.parse_args(argv)
    run_dir = args.conf.resolve().parent
    run_dir.mkdir(parents=True, exist_ok=True)
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    logs = args.logs.resolve() if args.logs else None
    args.conf.write_text(supervisord_conf(run_dir=run_dir, logs=logs, without=set(args.without), hold=set(args.hold)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
