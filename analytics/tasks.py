import time

import pandas as pd
from celery import shared_task
from django.conf import settings

from common import heartbeat
from reports.models import Service

from . import bucketing, fitting, tick


@shared_task(ignore_result=True, acks_late=True, expires=55)
def bucket_reports() -> int:
    # Idempotent (absolute upserts), so a retry or an overlapping run is harmless.
    return bucketing.bucket_new_reports()


@shared_task(ignore_result=True, expires=55)
def detect_tick() -> int:
    """Fan the minute's detection out in batches, so more workers mean a faster tick."""
    ids = list(Service.objects.filter(active=True).order_by("id").values_list("id", flat=True))
    size = settings.TREMOR_TICK_BATCH
    for offset in range(0, len(ids), size):
        detect_batch.delay(ids[offset : offset + size])
    return len(ids)


@shared_task(ignore_result=True, acks_late=True, expires=55)
def detect_batch(service_ids: list[int]) -> int:
    # Each service's minutes are claimed under a row lock (ServiceStatus), so a
    # redelivered or duplicate batch evaluates nothing twice.
    started = time.monotonic()
    evaluated = tick.run_tick(service_ids=service_ids)
    heartbeat.stamp("tick", seconds=time.monotonic() - started, services=len(service_ids))
    return evaluated


@shared_task(ignore_result=True, acks_late=True, expires=55)
def fit_profiles_ahead() -> int:
    # Idempotent: a point stored or claimed by another worker is not fitted again.
    return fitting.fit_ahead(now=pd.Timestamp.now(tz="UTC"), seconds=settings.TREMOR_FIT_AHEAD_SECONDS)
