"""The benchmark suite: `bench/run [--smoke] [--only NAME,...]` (see bench/README.md)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

from .lib.results import Figure, figure, table, write
from .lib.servers import ROOT, Gunicorn, Stack, rss_kib

# All load comes from this machine: limits are raised, and intake load carries a
# per-reporter X-Forwarded-For, as behind one reverse proxy (bench/README.md, "Intake").
WEB_ENV = {
    "TREMOR_REPORT_THROTTLE": "1000000/min",
    "TREMOR_BULK_THROTTLE": "1000000/min",
    "TREMOR_READ_THROTTLE_ANON": "1000000/min",
    "TREMOR_NUM_PROXIES": "1",
}
BENCHES = ["intake", "bulk", "pages", "flusher", "bucketing", "tick", "replay"]
# Run only when named (`--only grouping`): not part of --smoke's time budget (tests/test_bench_smoke.py).
OPTIONAL = ["surge", "grouping"]
# The order they run in: those that need the web server before those that stop it.
ORDER = ["intake", "bulk", "pages", "surge", "flusher", "bucketing", "tick", "replay", "grouping"]


def _setup_django(stack: Stack, *, collectstatic: bool = False) -> None:
    if collectstatic:
        stack.static_root = stack.base / "static"
    os.environ.update(stack.env())
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=stack.env(), check=True)
    if collectstatic:
        subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=stack.env(), check=True)
    import django

    django.setup()


def _seed() -> str:
    """Services for each benchmark, and a partner token for bulk intake (returns its key)."""
    from django.contrib.auth.models import User

    from reports.services import service_create
    from reports.tokens import token_create

    features = ["app-login", "remote-unlock", "climate", "location", "payments"]
    for slug in ("bench", "bench-ref", "bench-bulk", *(f"bench-svc-{i}" for i in range(20))):
        service_create(slug=slug, name=slug.replace("-", " ").title(), features=features)
    user = User.objects.create_user("bench-partner", password="unused-bench-password")
    return token_create(user=user, name="bench")[1]


def _memory(peaks: list[tuple[str, int, int]]) -> list[Figure]:
    return [figure(name, peak / 1024, "MiB", reference=idle / 1024 or None) for name, peak, idle in peaks if peak]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run")
    parser.add_argument("--smoke", action="store_true", help="a short run that checks the suite works")
    parser.add_argument(
        "--only", default=",".join(BENCHES), help="comma-separated subset of " + ",".join(BENCHES + OPTIONAL)
    )
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.json"))
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, cluster) for inspection")
    parser.add_argument(
        "--large", action="store_true", help="tick: measure sizes over the budget too (10,000 services: ~20 min)"
    )
    args = parser.parse_args(argv)
    # In suite order: the web benchmarks first, then those that stop the web server.
    wanted = [name for name in ORDER if name in args.only.split(",")]
    started = time.monotonic()

    # SIGTERM (a CI timeout, Ctrl-C's cousin) unwinds through the `finally`s that stop every server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    stack = Stack(keep=args.keep).start()
    print(f"bench: PostgreSQL on {stack.pg.port}, Redis on {stack.redis.port}, files in {stack.base}", flush=True)
    figures: list[Figure] = []
    failed: list[str] = []
    web = None
    try:
        _setup_django(stack, collectstatic=not args.smoke)
        partner_key = _seed()
        from .lib.context import Context

        ctx = Context(stack=stack, smoke=args.smoke, workdir=stack.base, partner_key=partner_key, large=args.large)
        web_env = stack.env(**WEB_ENV)
        web = Gunicorn(web_env, workers=4, log=stack.base / "gunicorn.log").start()
        ctx.web = web
        time.sleep(0.5)
        web_idle = max((rss_kib(p) for p in web.worker_pids()), default=0)
        web_peak = 0
        for name in wanted:
            if name in ("bucketing", "tick", "replay", "grouping") and web is not None:
                # The web server is done: record its workers' peak before stopping it.
                web_peak = web.peak_worker_rss_kib()
                web.stop()
                web = ctx.web = None
            module = _load(name)
            if module is None:
                print(f"== {name}: skipped (not available yet, see bench/README.md)", flush=True)
                continue
            t0 = time.monotonic()
            try:
                got = module.run(ctx)
            except Exception:
                # One broken benchmark must not hide the others' figures; the run still fails.
                traceback.print_exc()
                failed.append(name)
                got = [figure(f"{name}.crashed", 1, "error", target="<= 0")]
            print(table(f"{name} ({time.monotonic() - t0:.0f} s)", got), flush=True)
            figures += got
        if web is not None:
            web_peak = web.peak_worker_rss_kib()
        ctx.peaks.insert(0, ("memory.web_worker_peak_rss", web_peak, web_idle))
        got = _memory(ctx.peaks)
        print(table("memory (reference: the same process idle after start)", got), flush=True)
        figures += got
    finally:
        if web is not None:
            web.stop()
        stack.stop()
        write(Path(args.output), figures)
    short = [f.name for f in figures if f.passed is False]
    print(
        f"bench: {len(figures)} figures in {args.output} ({time.monotonic() - started:.0f} s);"
        f" {len(short)} fall short: {', '.join(short) or 'none'}"
    )
    if failed:
        print(f"bench: FAILED (crashed): {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _load(name: str):
    import importlib

    try:
        return importlib.import_module(f"bench.{name}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(("bench.", "analytics.")):
            return None
        raise


if __name__ == "__main__":
    sys.exit(main())
