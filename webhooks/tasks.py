"""Celery tasks for webhooks (queue `webhooks`, see CELERY_TASK_ROUTES): thin calls into services."""

from celery import shared_task

from . import services

# Retries further away than this are left to the sweeper (every minute) rather
# than held as ETA messages, which Redis would redeliver after its visibility timeout.
ETA_HORIZON_SECONDS = 60


@shared_task(ignore_result=True, acks_late=True)
def fan_out(event_id: int) -> None:
    # Idempotent: deliveries are unique per (subscription, event).
    for subscription_id, incident_id in services.fan_out_event(event_id=event_id):
        deliver.delay(subscription_id, incident_id)


@shared_task(ignore_result=True, acks_late=True)
def deliver(subscription_id: int, incident_id: int) -> None:
    # Idempotent: a delivery is claimed by a conditional UPDATE before it is sent.
    retry_in = services.deliver_pending(subscription_id=subscription_id, incident_id=incident_id)
    if retry_in is not None and retry_in <= ETA_HORIZON_SECONDS:
        deliver.apply_async((subscription_id, incident_id), countdown=retry_in)


@shared_task(ignore_result=True, expires=55)
def sweep() -> None:
    """Catch what lost messages and long backoffs left behind; prune old logs."""
    for event_id in services.events_not_fanned_out():
        fan_out.delay(event_id)
    for subscription_id, incident_id in services.due_pairs():
        deliver.delay(subscription_id, incident_id)
    services.prune_old_events()
