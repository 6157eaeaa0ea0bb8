import logging
import os
import signal
import socket

from django.core.management.base import BaseCommand

from reports import flusher

log = logging.getLogger("reports.flusher")


class Command(BaseCommand):
    help = "Move the durable intake log into the reports table in batches, until SIGTERM (Procfile: flusher)."

    def add_arguments(self, parser):
        # A stable name per machine: a restarted flusher takes its own unacknowledged entries back at once.
        parser.add_argument("--name", default=os.environ.get("TREMOR_FLUSHER_NAME") or socket.gethostname())

    def handle(self, *args, name: str, **options):
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
        log.info("flusher %s: started", name)
        flusher.run(consumer=name, stop=lambda: bool(stopping))
        log.info("flusher %s: stopped", name)
