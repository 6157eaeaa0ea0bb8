import json
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from analytics.bucketing import bucket_range
from analytics.models import Level
from analytics.replay import replay_service, status_after_replay
from analytics.serializers import IncidentSerializer
from analytics.widespread import regroup
from reports.imports import ImportFailed, import_csv
from reports.models import Service


class Command(BaseCommand):
    help = "Import a CSV of reports, then run bucketing and detection over its time range as live operation would."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--create-services", action="store_true", help="Create unknown services and features.")
        parser.add_argument("--output", type=Path, help='Write {"incidents": [...]} (API representation) here.')

    def handle(self, *args, file: Path, create_services: bool, output: Path | None, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        started = time.monotonic()

        def say(line: str) -> None:
            print(line, file=sys.stderr, flush=True)

        try:
            result = import_csv(
                file, create_services=create_services, progress=lambda s, d, t: say(f"  {s} {d:,}/{t:,}")
            )
        except ImportFailed as exc:
            for line in exc.errors:
                self.stderr.write(f"{file}: {line}")
            raise CommandError(f"{file}: nothing imported ({len(exc.errors)} bad row(s) shown above)") from None
        if not result.rows:
            raise CommandError(f"{file}: no rows to replay")
        say(f"imported {result.rows:,} reports ({result.start:%Y-%m-%d %H:%M} to {result.end:%Y-%m-%d %H:%M} UTC)")
        bucket_range(start=result.start, end=result.end, services=result.services)
        say(f"bucketed in {time.monotonic() - started:.1f} s; detecting minute by minute")
        incidents = []
        for service in Service.objects.filter(slug__in=result.services).order_by("slug"):
            say(f"{service.slug}:")
            replayed = replay_service(service_id=service.id, start=result.start, end=result.end, progress=say)
            incidents.extend(replayed.incidents)
            if status_after_replay(service_id=service.id, result=replayed):
                level = Level(replayed.last_level).label
                say(f"  reached the present: status {level} at {replayed.last_minute:%H:%M} UTC, the tick goes on")
        # Widespread events once every service is replayed: the grouping needs all their incidents.
        events = regroup(start=result.start, end=result.end)
        say(f"{len(events)} widespread event(s)")
        data = {"incidents": IncidentSerializer(sorted(incidents, key=lambda i: i.started_at), many=True).data}
        if output:
            output.write_text(json.dumps(data, indent=2, default=str))
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Replayed {result.rows:,} reports in {elapsed:.1f} s ({result.rows / elapsed:,.0f} reports/s): "
            f"{len(incidents)} incident(s)" + (f", written to {output}" if output else "")
        )
