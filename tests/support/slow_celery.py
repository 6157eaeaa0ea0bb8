"""The Celery app with bucketing slowed down, so a test can kill a worker in the middle of it.

`celery -A tests.support.slow_celery worker`: every bucket range upserted and every
service ticked is written as usual, then logged and followed by a pause
(TREMOR_FAULT_DELAY seconds).
"""

import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from analytics import bucketing, tick  # noqa: E402
from config.celery import app  # noqa: E402,F401

DELAY = float(os.environ.get("TREMOR_FAULT_DELAY", "2"))
_bucket = bucketing._bucket
_tick_service = tick.tick_service


def _slow_bucket(**kwargs):
    written = _bucket(**kwargs)
    print(f"FAULT-HOOK bucketed {written} bucket rows", flush=True)
    time.sleep(DELAY)
    return written


def _slow_tick_service(**kwargs):
    evaluated = _tick_service(**kwargs)  # commits this service's verdicts
    print(f"FAULT-HOOK detected service {kwargs['service_id']}", flush=True)
    time.sleep(DELAY)
    return evaluated


# One bucketing run upserts range after range, one detection batch ticks service
# after service: the pause falls between two committed units of work.
bucketing._bucket = _slow_bucket
tick.tick_service = _slow_tick_service
