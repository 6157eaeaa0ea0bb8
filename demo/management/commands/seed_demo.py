from django.core.management.base import BaseCommand
from django.utils import timezone

from demo.loading import load_demo


class Command(BaseCommand):
    help = "Load the demo service (tesla): two ordinary weeks up to now and the 14 Feb 2023 outage in the last day."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Delete the demo service and load it again.")

    def handle(self, *args, reset: bool, **options):
        load_demo(now=timezone.now(), reset=reset, progress=lambda line: self.stderr.write(line))
