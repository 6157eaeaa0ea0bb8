import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from analytics.bucketing import rebuild_buckets


def _moment(value: str):
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise CommandError(f"{value!r}: give an ISO 8601 date-time with a time zone, e.g. 2023-02-14T00:00:00Z")
    return parsed


class Command(BaseCommand):
    help = "Recompute the minute buckets of [--start, --end) from the raw reports."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, type=_moment)
        parser.add_argument("--end", required=True, type=_moment)

    def handle(self, *args, start, end, **options):
        if start >= end:
            raise CommandError("--start must be before --end")

        def progress(upto, written):
            print(f"  rebuilt up to {upto:%Y-%m-%d %H:%M} UTC, {written:,} bucket rows", file=sys.stderr, flush=True)

        written = rebuild_buckets(start=start, end=end, progress=progress)
        self.stdout.write(f"Rebuilt {written:,} bucket rows for {start.isoformat()} to {end.isoformat()}.")
