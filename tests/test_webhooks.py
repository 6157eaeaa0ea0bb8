"""Webhook logic against a real HTTP receiver on 127.0.0.1, calling the services/tasks directly."""

import json
import time
from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from analytics.events import publish_incident_event
from analytics.models import Incident, Level
from analytics.serializers import IncidentSerializer
from tests.support.webhooks import drain, subscribe
from webhooks import services, signing
from webhooks.models import Delivery, DeliveryAttempt, Event
from webhooks.tasks import fan_out

FAST = {
    "TREMOR_WEBHOOK_BACKOFF_SECONDS": 0.05,
    "TREMOR_WEBHOOK_BACKOFF_MAX_SECONDS": 0.2,
    "TREMOR_WEBHOOK_TIMEOUT_SECONDS": 0.5,
}


def make_incident(service, *, level=Level.PROBLEMS, regions=("EU",), regional=True) -> Incident:
    now = timezone.now()
    return Incident.objects.create(
        service=service, level=level, started_at=now - timedelta(minutes=10), detected_at=now - timedelta(minutes=8),
        peak_at=now - timedelta(minutes=5), peak_reports_per_minute=40, baseline_at_peak=2, excess_reports=300,
        scope={"regions": list(regions), "codes": ["503"]}, is_regional=regional,
        phases=[{"started_at": (now - timedelta(minutes=10)).isoformat(), "ended_at": None}],
    )  # fmt: skip


def publish(incident, event) -> Event:
    publish_incident_event(incident_id=incident.pk, event=event)
    record = Event.objects.filter(incident=incident, type=event).latest("pk")
    services.fan_out_event(event_id=record.pk)
    return record


def test_a_delivery_is_signed_and_carries_the_incident_and_event_id(tesla, owner, receiver):
    sub = subscribe(owner, receiver.url())
    incident = make_incident(tesla)
    event = publish(incident, "incident.opened")
    drain(sub, incident)

    (got,) = receiver.at("/hook")
    assert signing.verify(secret=sub.secret, body=got.body, header=got.headers[signing.HEADER])
    assert not signing.verify(secret="whsec_wrong", body=got.body, header=got.headers[signing.HEADER])
    assert not signing.verify(secret=sub.secret, body=got.body + b" ", header=got.headers[signing.HEADER])
    # The signed timestamp stops replays: the same request an hour later is refused.
    assert not signing.verify(
        secret=sub.secret, body=got.body, header=got.headers[signing.HEADER], now=time.time() + 3600
    )
    body = json.loads(got.body)
    assert body["id"] == str(event.uid) == got.headers["Tremor-Event-Id"]
    assert body["type"] == "incident.opened" == got.headers["Tremor-Event"]
    assert body["created_at"].endswith("Z")
    assert body["incident"] == json.loads(json.dumps(IncidentSerializer(incident).data))
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.status_code, attempt.number) == (200, 1)
    assert attempt.latency_ms < 1000


@override_settings(**FAST)
def test_it_retries_a_500_with_growing_backoff_until_it_succeeds(tesla, owner, receiver):
    receiver.behaviour = lambda path, n: (500 if n <= 3 else 204, 0)
    sub = subscribe(owner, receiver.url())
    incident = make_incident(tesla)
    publish(incident, "incident.opened")
    drain(sub, incident)

    got = receiver.at("/hook")
    assert len(got) == 4
    assert len({r.body for r in got}) == 1  # the same event, resent as is
    assert [r.headers["Tremor-Delivery-Attempt"] for r in got] == ["1", "2", "3", "4"]
    gaps = [b.at - a.at for a, b in zip(got, got[1:], strict=False)]
    # Equal jitter: attempt n waits between half and all of 0.05 * 2**(n-1) seconds.
    for n, gap in enumerate(gaps, start=1):
        assert 0.05 * 2 ** (n - 1) / 2 <= gap <= 0.05 * 2 ** (n - 1) + 0.3, gaps
    log = list(DeliveryAttempt.objects.order_by("number").values_list("number", "status_code"))
    assert log == [(1, 500), (2, 500), (3, 500), (4, 204)]
    assert Delivery.objects.get().status == "succeeded"
    sub.refresh_from_db()
    assert sub.consecutive_failures == 0 and sub.is_active


@override_settings(**FAST)
def test_a_timeout_counts_as_a_failure_and_is_retried(tesla, owner, receiver):
    receiver.behaviour = lambda path, n: (200, 1.5 if n == 1 else 0)
    sub = subscribe(owner, receiver.url())
    incident = make_incident(tesla)
    publish(incident, "incident.opened")
    started = time.monotonic()
    retry_in = services.deliver_pending(subscription_id=sub.pk, incident_id=incident.pk)
    assert time.monotonic() - started < 1.0  # the 0.5 s deadline held, not the receiver's 1.5 s
    assert retry_in is not None
    first = DeliveryAttempt.objects.get()
    assert first.status_code is None and "timeout" in first.error and 450 <= first.latency_ms < 1000
    drain(sub, incident)
    assert list(DeliveryAttempt.objects.order_by("number").values_list("status_code", flat=True)) == [None, 200]


@override_settings(**FAST)
def test_events_of_one_incident_arrive_in_order_even_when_the_first_needs_retries(tesla, owner, receiver):
    # The opened event fails twice; updated and resolved must wait behind it.
    receiver.behaviour = lambda path, n: (500 if n <= 2 else 200, 0)
    sub = subscribe(owner, receiver.url())
    incident = make_incident(tesla)
    for event in ("incident.opened", "incident.updated", "incident.resolved"):
        publish(incident, event)
    drain(sub, incident)
    got = receiver.at("/hook")
    types = [json.loads(r.body)["type"] for r in got]
    assert types == ["incident.opened"] * 3 + ["incident.updated", "incident.resolved"]


def test_filters_choose_the_subscribers(tesla, owner, receiver):
    from reports.services import service_create

    other = service_create(slug="bank", name="Bank", homepage_url="", features=["login"])
    everything = subscribe(owner, receiver.url("/all"))
    only_bank = subscribe(owner, receiver.url("/bank"), services=[other])
    only_na = subscribe(owner, receiver.url("/na"), regions=["NA"])
    only_problems = subscribe(owner, receiver.url("/problems"), min_level=Level.PROBLEMS)
    only_resolved = subscribe(owner, receiver.url("/resolved"), events=["incident.resolved"])
    incident = make_incident(tesla, level=Level.POSSIBLE, regions=["EU"])
    event = publish(incident, "incident.opened")
    assert set(Delivery.objects.filter(event=event).values_list("subscription", flat=True)) == {everything.pk}
    # Global incidents reach region-filtered subscribers too.
    global_incident = make_incident(other, regional=False, regions=[])
    event = publish(global_incident, "incident.opened")
    assert set(Delivery.objects.filter(event=event).values_list("subscription", flat=True)) == {
        everything.pk, only_bank.pk, only_na.pk, only_problems.pk
    }  # fmt: skip
    assert only_resolved.pk not in Delivery.objects.values_list("subscription", flat=True)


def test_a_subscriber_who_got_the_opening_gets_the_rest_even_below_its_level(tesla, owner, receiver):
    sub = subscribe(owner, receiver.url(), min_level=Level.PROBLEMS)
    incident = make_incident(tesla, level=Level.PROBLEMS)
    publish(incident, "incident.opened")
    Incident.objects.filter(pk=incident.pk).update(level=Level.POSSIBLE)
    event = publish(incident, "incident.updated")
    assert Delivery.objects.filter(event=event, subscription=sub).exists()


def test_fan_out_twice_delivers_once(tesla, owner, receiver):
    sub = subscribe(owner, receiver.url())
    incident = make_incident(tesla)
    event = publish(incident, "incident.opened")
    fan_out.run(event.pk)  # the task body, as a retried task or the sweeper would run it again
    services.fan_out_event(event_id=event.pk)
    assert Delivery.objects.count() == 1
    drain(sub, incident)
    drain(sub, incident)
    assert len(receiver.at("/hook")) == 1


def test_nothing_is_recorded_when_nobody_subscribes(tesla):
    incident = make_incident(tesla)
    publish_incident_event(incident_id=incident.pk, event="incident.opened")
    assert not Event.objects.exists()


@override_settings(**FAST, TREMOR_WEBHOOK_DISABLE_AFTER_FAILURES=3)
def test_a_failing_endpoint_is_disabled_after_repeated_failures(tesla, owner, receiver):
    receiver.behaviour = lambda path, n: (500, 0)
    sub = subscribe(owner, receiver.url())
    incident = make_incident(tesla)
    publish(incident, "incident.opened")
    drain(sub, incident)
    sub.refresh_from_db()
    assert not sub.is_active and "3 failed attempts" in sub.disabled_reason
    assert len(receiver.at("/hook")) == 3
    assert Delivery.objects.get().status == "pending"  # kept for when the subscriber turns it back on


@override_settings(**FAST, TREMOR_WEBHOOK_RETRY_WINDOW_SECONDS=0.4)
def test_a_delivery_is_given_up_after_the_retry_window(tesla, owner, receiver):
    receiver.behaviour = lambda path, n: (503, 0)
    sub = subscribe(owner, receiver.url())
    incident = make_incident(tesla)
    publish(incident, "incident.opened")
    drain(sub, incident)
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts >= 3
    sub.refresh_from_db()
    assert not sub.is_active and "retry window" in sub.disabled_reason


def test_backoff_is_exponential_capped_and_jittered():
    with override_settings(TREMOR_WEBHOOK_BACKOFF_SECONDS=30, TREMOR_WEBHOOK_BACKOFF_MAX_SECONDS=3600):
        for attempt, full in [(1, 30), (2, 60), (5, 480), (12, 3600)]:
            samples = [services.backoff_seconds(attempt) for _ in range(200)]
            assert full / 2 <= min(samples) and max(samples) <= full
            assert len(set(samples)) > 100  # jittered


def test_private_targets_are_refused_in_production(tesla, owner, receiver):
    with override_settings(TREMOR_WEBHOOK_ALLOW_PRIVATE_TARGETS=False):
        sub = subscribe(owner, receiver.url())
        incident = make_incident(tesla)
        publish(incident, "incident.opened")
        services.deliver_pending(subscription_id=sub.pk, incident_id=incident.pk)
    assert receiver.at("/hook") == []
    assert "refused target" in DeliveryAttempt.objects.get().error
