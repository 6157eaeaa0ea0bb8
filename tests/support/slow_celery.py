"""The Celery app with bucketing and detection slowed down, so a test can kill a worker in the middle.

`celery -A tests.support.slow_celery worker`: every bucket range upserted and every
detection batch ticked is written as usual, then logged and followed by a pause
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
_run_tick = tick.run_tick
_tick_service = tick.tick_service


def _slow_bucket(**kwargs):
    written = _bucket(**kwargs)
    print(f"FAULT-HOOK bucketed {written} bucket rows", flush=True)
    time.sleep(DELAY)
    return written


def _slow_run_tick(**kwargs):
    evaluated = _run_tick(**kwargs)  # commits this batch's verdicts
    print(f"FAULT-HOOK detected services {kwargs['service_ids']}", flush=True)
    time.sleep(DELAY)
    return evaluated


def _slow_tick_service(**kwargs):
    evaluated = _tick_service(**kwargs)  # inside the batch's transaction: nothing committed yet
    print(f"FAULT-HOOK stepped service {kwargs['service_id']} (uncommitted)", flush=True)
    time.sleep(DELAY)
    return evaluated


# One bucketing run upserts range after range, one detection tick runs batch after batch
# (analytics.tasks.detect_batch): the pause falls between two committed units of work.
bucketing._bucket = _slow_bucket
tick.run_tick = _slow_run_tick
if os.environ.get("TREMOR_FAULT_IN_BATCH"):  # the pause inside a batch instead, between two services
    tick.tick_service = _slow_tick_service
