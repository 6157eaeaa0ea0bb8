"""Webhook subscriptions for tests, and running their deliveries as the worker would."""

import time

from analytics.models import Incident
from webhooks import services
from webhooks.models import Subscription


def subscribe(owner, url, **fields) -> Subscription:
    services_ = fields.pop("services", [])
    sub = Subscription.objects.create(owner=owner, url=url, secret="whsec_test_secret_0123456789", **fields)
    sub.services.set(services_)
    return sub


def drain(sub: Subscription, incident: Incident, *, limit: float = 10.0) -> None:
    """Run deliveries for one pair as the worker would, sleeping through the backoff."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        retry_in = services.deliver_pending(subscription_id=sub.pk, incident_id=incident.pk)
        if retry_in is None:
            return
        time.sleep(retry_in)
    raise AssertionError("deliveries did not settle")
