"""What grouping reads: provider shares in one aggregate query, a join in a fixed number of queries.

The tick's cost of grouping is its round trips to the database (bench/grouping.py
measures it); these pin them, so a change that reads every service or every
member again per incident fails here, not only in the benchmark.
"""

import pandas as pd
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import widespread
from analytics.models import EventMember, WidespreadEvent
from demo.widespread import fleet, provider_outage
from reports.models import Service
from tests.support.widespread import _row, make_fleet, run_live

ONSET = pd.Timestamp("2024-06-03 15:32", tz="UTC")


def test_provider_shares_count_each_active_service_once_per_provider(db):
    Service.objects.bulk_create([
        Service(slug="a", name="A", providers=["aws:us-east-1", "cloudflare"]),
        Service(slug="b", name="B", providers=["aws:us-east-1", "aws:us-east-1"]),  # twice: counts once
        Service(slug="c", name="C", providers=[]),
        Service(slug="d", name="D", providers="cloudflare"),  # not a list: names none
        Service(slug="e", name="E", providers=["cloudflare"], active=False),  # inactive: not counted
    ])  # fmt: skip
    assert widespread.provider_shares() == {"aws:us-east-1": 2 / 4, "cloudflare": 1 / 4}


def test_provider_shares_of_no_active_service_are_empty(db):
    Service.objects.create(slug="gone", name="Gone", providers=["gcp"], active=False)
    assert widespread.provider_shares() == {}


def _queries_of_a_join(services: int) -> tuple[int, int]:
    providers = fleet(services, seed=1)
    rows = make_fleet(providers)
    items = sorted(provider_outage(fleet_providers=providers, provider="gcp", onset=ONSET, hit=12, seed=9),
                   key=lambda i: i["detected_at"])  # fmt: skip
    run_live(rows, items[:-1])
    (event,) = WidespreadEvent.objects.all()
    members = event.members.count()
    last = _row(rows, items[-1], resolved=False)
    last.save()
    with CaptureQueriesContext(connection) as queries:
        assert widespread.group(incident_id=last.pk) == widespread.JOINED
    assert EventMember.objects.filter(event=event).count() == members + 1
    return len(queries.captured_queries), members


def test_a_join_reads_neither_every_service_nor_every_member_again(db):
    small, members = _queries_of_a_join(200)
    EventMember.objects.all().delete()
    WidespreadEvent.objects.all().delete()
    Service.objects.all().delete()
    large, _ = _queries_of_a_join(600)
    # Savepoint, lock, the incident (with its membership), the ongoing events with their members in one
    # query, the new member, the provider counts, the event's update, release.
    assert small == large == 8, (small, large, members)
