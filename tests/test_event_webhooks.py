"""Widespread events reach webhook subscribers who ask for them: opened, a service joined, resolved."""

import json

import pandas as pd

from analytics import widespread
from analytics.events import publish_widespread_event
from analytics.models import EventMember, WidespreadEvent
from demo.widespread import fleet, provider_outage
from tests.support.webhooks import drain, subscribe
from tests.support.widespread import make_fleet, run_live
from webhooks import services
from webhooks.models import Event

ONSET = pd.Timestamp("2021-06-08 09:47", tz="UTC")


def test_opened_joined_and_resolved_go_out_in_order_to_who_named_them(db, owner, receiver):
    providers = fleet(60, seed=11)
    services_ = make_fleet(providers)
    wanted = subscribe(owner, receiver.url("/events"), events=list(widespread.EVENT_TYPES))
    subscribe(owner, receiver.url("/incidents"))  # no `events` filter: incident events only, never these
    items = provider_outage(fleet_providers=providers, provider="cloudflare", onset=ONSET, hit=9, seed=12)
    run_live(services_, sorted(items, key=lambda i: i["detected_at"]), publish=publish_widespread_event)
    for record in Event.objects.order_by("pk"):
        services.fan_out_event(event_id=record.pk)
    anchor = EventMember.objects.order_by("joined_at", "id").first().incident
    drain(wanted, anchor)

    got = [json.loads(r.body) for r in receiver.at("/events")]
    kinds = [g["type"] for g in got]
    assert kinds[0] == "event.opened" and kinds[-1] == "event.resolved"
    assert set(kinds[1:-1]) <= {"event.service_joined"}
    event = WidespreadEvent.objects.get()
    assert len(kinds) - 2 == event.members.exclude(joined_at=event.detected_at).count()
    assert got[-1]["event"]["status"] == "resolved" and got[-1]["event"]["provider"]["name"] == "cloudflare"
    assert all(g["service"] for g in got[1:]) and got[0]["service"] is None
    assert receiver.at("/incidents") == []
