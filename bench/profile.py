"""Profile one gunicorn worker under load: `.venv/bin/python -m bench.profile intake|bulk|reference`.

Starts the same stack as bench/run, loads it with wrk, samples one web worker
with py-spy (`pip install py-spy`; not needed by bench/run itself) and prints
the frames that hold the most samples (inclusive). Used for bench/README.md.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import time

from .lib.context import LUA
from .lib.servers import VENV_BIN, Gunicorn, Stack
from .suite import WEB_ENV, _seed, _setup_django

LOADS = {
    "intake": ("intake.lua", ["/api/v1/reports/", "bench", "remote-unlock", "20"], 8),
    "reference": ("intake.lua", ["/bench/insert/", "bench-ref", "remote-unlock", "20"], 8),
    "bulk": ("bulk.lua", None, 4),
}


def summarize(raw: str, top: int) -> list[tuple[float, str]]:
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        frames = {frame.split(" (")[0] + " (" + frame.rsplit("/", 1)[-1].split(":")[0] for frame in stack.split(";")}
        for frame in frames:
            inclusive[frame] += int(count)
    return [(100 * n / total, frame) for frame, n in inclusive.most_common(top)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("load", choices=sorted(LOADS))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--top", type=int, default=60)
    args = parser.parse_args()
    stack = Stack().start()
    web = None
    try:
        _setup_django(stack)
        key = _seed()
        env = stack.env(**WEB_ENV)
        web = Gunicorn(env, workers=4, log=stack.base / "gunicorn.log").start()
        script, wrk_args, conns = LOADS[args.load]
        if wrk_args is None:
            from .bulk import batch

            body = stack.base / "bulk-body.json"
            body.write_text(json.dumps({"reports": batch()}))
            wrk_args = [str(body), key]
        cmd = ["wrk", "-t2", f"-c{conns}", "-s", str(LUA / script), web.url, "--", *wrk_args]
        subprocess.run([*cmd[:1], "-d6s", *cmd[1:], "warm"], capture_output=True, check=True)
        cmd = [*cmd[:1], f"-d{args.seconds + 4}s", *cmd[1:], str(time.time())]
        load = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        time.sleep(2)
        out = stack.base / "profile.txt"
        subprocess.run(
            [str(VENV_BIN / "py-spy"), "record", "-d", str(args.seconds), "-r", "250", "-f", "raw"]
            + ["-p", str(web.worker_pids()[0]), "-o", str(out)],
            capture_output=True,
            check=True,
        )
        print([line for line in load.communicate()[0].splitlines() if "Requests/sec" in line][0])
        for share, frame in summarize(out.read_text(), args.top):
            print(f"{share:5.1f}%  {frame}")
    finally:
        if web:
            web.stop()
        stack.stop()


if __name__ == "__main__":
    main()
