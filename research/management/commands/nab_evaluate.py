import json
import os
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from analytics.core.detection import TREMOR_CONFIG
from research.nab import PROFILES, evaluate


class Command(BaseCommand):
    help = (
        "Replay NAB series through the live detector (TREMOR_CONFIG, the configuration the tick "
        "uses) and score its incident openings: per-file raw scores and the normalised score of "
        "each profile. Any step, any scale; labels are used for scoring only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data", required=True, help="directory of NAB CSVs (timestamp,value)")
        parser.add_argument("--windows", required=True, help="NAB windows JSON (labels/windows.json)")
        parser.add_argument("--flags-out", help='write {"FILE.csv": ["timestamp", ...]} here')

    def handle(self, *args, data, windows, flags_out=None, **options):
        if not os.path.isdir(data):
            raise CommandError(f"--data {data!r} is not a directory")
        if not any(f.endswith(".csv") for f in os.listdir(data)):
            raise CommandError(f"--data {data!r} holds no .csv files")
        if not os.path.isfile(windows):
            raise CommandError(f"--windows {windows!r} is not a file")
        try:
            with open(windows) as fh:
                json.load(fh)
        except ValueError as exc:
            raise CommandError(f"--windows {windows!r} is not valid JSON: {exc}") from None

        def progress(name: str, i: int, n: int) -> None:
            print(f"  [{i + 1}/{n}] {name}", file=sys.stderr, flush=True)

        t0 = time.perf_counter()
        res = evaluate(data, windows, TREMOR_CONFIG, progress=progress)
        print(f"  done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)

        names = list(PROFILES)
        out = self.stdout
        out.write(f"{'file':28s} {'tp':>3s} {'fn':>3s} {'fp':>3s} " + " ".join(f"{n:>18s}" for n in names))
        for fname, parts in res["details"].items():
            std = parts["standard"]
            raw = " ".join(f"{parts[n].score:18.3f}" for n in names)
            out.write(f"{fname:28s} {std.tp:3d} {std.fn:3d} {std.fp:3d} {raw}")
        out.write("NAB normalised score")
        for n in names:
            out.write(f"  {n}: {res['normalised'][n]:.2f}")
        if flags_out:
            with open(flags_out, "w") as fh:
                json.dump(res["flags"], fh, indent=1)
            print(f"  flags written to {flags_out}", file=sys.stderr, flush=True)
