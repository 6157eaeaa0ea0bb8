"""What grouping reads: provider shares in one aggregate query, a join in a fixed number of queries,
a tick batch's openings grouped in one transaction.

The tick's cost of grouping is its round trips to the database (bench/grouping.py
measures it); these pin them, so a change that reads every service or every
member again per incident fails here, not only in the benchmark.
"""

from unittest import mock

import pandas as pd
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import incidents, widespread
from analytics.models import EventGroupingLock, EventMember, Incident, WidespreadEvent
from demo.widespread import fleet, provider_outage
from reports.models import Service
from tests.support.widespread import _row, events, load_resolved, make_fleet, run_live

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


def _outage(services: int = 200) -> list[int]:
    """Twelve services on gcp fail within minutes and are detected in one tick: committed, ongoing, not grouped."""
    providers = fleet(services, seed=1)
    rows = make_fleet(providers)
    items = provider_outage(fleet_providers=providers, provider="gcp", onset=ONSET, hit=12, seed=9)
    load_resolved(rows, items)
    tick = max(i["detected_at"] for i in items).to_pydatetime()
    Incident.objects.update(status="ongoing", ended_at=None, detected_at=tick)
    EventGroupingLock.objects.get_or_create(id=1)  # as after the first grouping ever
    return list(Incident.objects.order_by("detected_at", "id").values_list("id", flat=True))


def _tick_batch(ids: list[int], said: list[str], capture) -> int:
    """The batch's openings as save_state hands them on after each commit; the queries of the grouping."""
    with capture(execute=True), CaptureQueriesContext(connection) as queries:
        with incidents.grouping_batch():
            with capture(execute=True):  # each service's commit
                for pk in ids:
                    incidents._after_commit("group", incident_id=pk, announce=lambda e, kind, i: said.append(kind))
            assert not WidespreadEvent.objects.exists()  # held until the batch's services are done
    return len(queries.captured_queries)


def test_a_tick_batch_groups_its_openings_together_as_the_replay_does(db, django_capture_on_commit_callbacks):
    ids, said = _outage(), []
    grouped = _tick_batch(ids, said, django_capture_on_commit_callbacks)
    (event,) = WidespreadEvent.objects.all()
    assert event.members.count() == 12 and event.provider == "gcp"
    # All detected by the first: it forms the event with the other eleven, as the replay does; announced
    # after the batch's commit.
    assert said == ["event.opened"]
    # One savepoint, lock and release for all twelve; the first forms the event (its incident, the ongoing
    # events, the nearby incidents, two counts for the rate, the event, its members, the provider counts,
    # the update: 9); each of the other eleven reads its incident and finds it grouped. (And the check above.)
    assert grouped == 3 + 9 + 11 + 1, grouped
    live = events()
    WidespreadEvent.objects.all().delete()
    widespread.regroup(start=(ONSET - pd.Timedelta(hours=1)).to_pydatetime(), end=ONSET.to_pydatetime())
    widespread.regroup(start=ONSET.to_pydatetime(), end=(ONSET + pd.Timedelta(hours=1)).to_pydatetime())
    assert events() == live


def test_a_failing_batch_groups_each_incident_alone(db, django_capture_on_commit_callbacks, caplog):
    ids, said = _outage(), []
    real, calls = widespread._group, []

    def fail_once(**kwargs):
        calls.append(kwargs["incident_id"])
        if len(calls) == 1:
            raise RuntimeError("boom")
        return real(**kwargs)

    with mock.patch.object(widespread, "_group", fail_once):
        _tick_batch(ids, said, django_capture_on_commit_callbacks)
    (event,) = WidespreadEvent.objects.all()
    assert event.members.count() == 12 and said == ["event.opened"]
    assert "each alone" in caplog.text and calls[0] == calls[1] == ids[0]
