import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports.services import services_import


class Command(BaseCommand):
    help = (
        "Create or update services from a CSV: slug,name[,homepage_url][,providers][,official_kind,official_url]"
        " (providers separated by ';'; official_kind: statuspage, rss, atom or none)"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        with file.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        try:
            created, updated = services_import(rows=rows)
        except ValueError as exc:
            raise CommandError(f"{file}: {exc}; nothing imported") from None
        self.stdout.write(f"{created} service(s) created, {updated} updated")
