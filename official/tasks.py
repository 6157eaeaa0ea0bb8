"""Celery tasks of the official status (polls on queue `webhooks`, see CELERY_TASK_ROUTES): thin calls."""

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(ignore_result=True, expires=55)
def poll_due() -> None:
    # Idempotent: each source is claimed by a conditional UPDATE before it is queued.
    for source_id in services.claim_due(now=timezone.now()):
        poll.delay(source_id)


@shared_task(ignore_result=True, acks_late=True, expires=120)
def poll(source_id: int) -> None:
    # Never raises over what a source answered: failures are stored on the source, with backoff.
    services.poll(source_id=source_id)
