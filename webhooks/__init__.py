"""Webhooks: subscriptions to incident events, signed deliveries with retries (Celery)."""
