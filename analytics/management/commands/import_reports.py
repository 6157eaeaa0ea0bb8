import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from analytics.bucketing import bucket_range
from reports.imports import ImportFailed, import_csv


class Command(BaseCommand):
    help = "Import reports from a CSV file (observed_at,service,country,code,feature); all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--create-services", action="store_true", help="Create unknown services and features.")

    def handle(self, *args, file: Path, create_services: bool, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        started = time.monotonic()

        def progress(stage: str, done: int, total: int) -> None:
            print(f"  {stage} {done:,}/{total:,} rows", file=sys.stderr, flush=True)

        try:
            result = import_csv(file, create_services=create_services, progress=progress)
        except ImportFailed as exc:
            for line in exc.errors:
                self.stderr.write(f"{file}: {line}")
            raise CommandError(f"{file}: nothing imported ({len(exc.errors)} bad row(s) shown above)") from None
        buckets = bucket_range(start=result.start, end=result.end, services=result.services) if result.rows else 0
        elapsed = time.monotonic() - started
        rate = result.rows / elapsed if elapsed else 0
        self.stdout.write(
            f"Imported {result.rows:,} reports for {', '.join(result.services) or '-'} "
            f"({result.start:%Y-%m-%d %H:%M} to {result.end:%Y-%m-%d %H:%M} UTC), "
            f"{buckets:,} bucket rows, in {elapsed:.1f} s ({rate:,.0f} rows/s)."
            if result.rows
            else "The file holds no rows: nothing imported."
        )
