from celery import shared_task

from . import services


@shared_task(ignore_result=True, acks_late=True, expires=55)
def bucket_reports() -> int:
    # Idempotent (absolute upserts), so a retry or an overlapping run is harmless.
    return services.bucket_new_reports()
