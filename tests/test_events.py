"""Widespread events from generated incident sets, grouped live (in time order) and by the replay."""

import threading

import pandas as pd
import pytest
from django.db import connection, connections

from analytics import widespread
from analytics.core.lifecycle import OPENED, IncidentState
from analytics.incidents import save_state
from analytics.models import EventMember, Incident, WidespreadEvent
from demo.widespread import fleet, provider_outage, quiet_incidents
from tests.support.widespread import events, later, load_resolved, make_fleet, run_live

T0 = pd.Timestamp("2024-06-03 00:00", tz="UTC")
ONSET = T0 + pd.Timedelta(days=20, hours=15, minutes=32)


@pytest.fixture
def two_hundred(db):
    providers = fleet(200, seed=1)
    return providers, make_fleet(providers)


def with_history(services, items):
    """The first two weeks stored as history (the rates' input), the rest grouped live; the announcements."""
    cut = T0 + pd.Timedelta(days=14)
    load_resolved(services, [i for i in items if i["detected_at"] < cut])
    return run_live(services, [i for i in items if i["detected_at"] >= cut])


def outage_weeks(providers, *, seed=2):
    quiet = quiet_incidents(services=200, start=T0, days=28, seed=seed)
    hit = provider_outage(fleet_providers=providers, provider="aws:us-east-1", onset=ONSET, hit=30, seed=seed)
    hit_ids = {i["service"] for i in hit}
    # A service is in one incident at a time: drop the quiet ones of the hit services around the outage.
    quiet = [i for i in quiet if i["service"] not in hit_ids or abs(i["started_at"] - ONSET) > pd.Timedelta(hours=4)]
    return sorted(quiet + hit, key=lambda i: (i["detected_at"], i["service"]))


def test_a_provider_outage_on_30_of_200_services_is_one_event_naming_the_provider(two_hundred):
    providers, services = two_hundred
    said = with_history(services, outage_weeks(providers))
    (event,) = [e for e in WidespreadEvent.objects.all() if abs(e.started_at - ONSET) < pd.Timedelta(minutes=10)]
    assert event.members.count() == 30
    assert event.provider == "aws:us-east-1" and event.provider_members == 30
    assert event.status == "resolved" and event.ended_at is not None
    assert said.count("event.opened") == WidespreadEvent.objects.count()
    print(f"\n30 of 200 within 10 min: chance {event.chance:.2g}/day, {event.rate_per_minute * 10:.2f} expected")


def test_quiet_weeks_of_independent_incidents_make_no_event(two_hundred):
    providers, services = two_hundred
    items = quiet_incidents(services=200, start=T0, days=28, seed=3)
    # The rates are learnt from the incidents before: the first two weeks are their history.
    with_history(services, items)
    measured = WidespreadEvent.objects.count()
    print(f"\n{len(items)} incidents of 200 services in 4 weeks: {measured} event(s) in the last two")
    assert measured == 0


def test_two_unrelated_incidents_three_minutes_apart_in_different_regions_make_no_event(two_hundred):
    _, services = two_hundred
    base = {"codes": ["503"], "ended_at": later(ONSET, 60)}
    items = [
        {**base, "service": 0, "started_at": ONSET, "detected_at": later(ONSET, 4), "regions": ["EU"]},
        {**base, "service": 1, "started_at": later(ONSET, 3), "detected_at": later(ONSET, 7), "regions": ["NA"]},
    ]
    assert run_live(services, items) == []
    assert not WidespreadEvent.objects.exists()


@pytest.mark.parametrize("same_region", [True, False], ids=["one_region", "five_regions"])
def test_five_incidents_within_minutes_are_an_event_only_if_they_share_a_region(two_hundred, same_region):
    # Five onsets within 4 minutes among 200 services are rare enough (the two above are not even
    # tested: fewer than three); what decides is whether they overlap in scope.
    _, services = two_hundred
    regions = ["EU"] * 5 if same_region else ["EU", "NA", "AS", "SA", "OC"]
    items = [
        {"service": n, "started_at": later(ONSET, n), "detected_at": later(ONSET, n + 4), "regions": [region],
         "codes": ["503"], "ended_at": later(ONSET, 60)}
        for n, region in enumerate(regions)
    ]  # fmt: skip
    said = run_live(services, items)
    # Four would be chance once in 500 days of 200 services: the event forms at the fifth, all at once.
    assert said == (["event.opened", "event.resolved"] if same_region else [])
    assert EventMember.objects.count() == (5 if same_region else 0)


def test_an_event_grows_as_late_services_join_and_ends_when_the_last_resolves(two_hundred):
    providers, services = two_hundred
    first = provider_outage(fleet_providers=providers, provider="cloudflare", onset=ONSET, hit=8, seed=4)
    taken = {i["service"] for i in first}
    late = []
    for n, minutes in enumerate([14, 22, 30]):
        service = next(s for s in range(200) if s not in taken)
        taken.add(service)
        onset = later(ONSET, minutes)
        late.append({"service": service, "started_at": onset, "detected_at": later(onset, 3), "regions": [],
                     "codes": ["503"], "ended_at": later(ONSET, 180 + n * 10)})  # fmt: skip
    items = sorted(first + late, key=lambda i: i["detected_at"])
    said = run_live(services, items, until=later(ONSET, 40))
    (event,) = WidespreadEvent.objects.all()
    formed = EventMember.objects.filter(joined_at=event.detected_at).count()
    assert event.members.count() == 11 and said == ["event.opened"] + ["event.service_joined"] * (11 - formed)
    joined = list(EventMember.objects.filter(event=event).values_list("incident__service__slug", flat=True))
    assert joined[-3:] == [services[i["service"]].slug for i in late]  # in join order
    assert event.status == "ongoing"
    WidespreadEvent.objects.all().delete()
    said = run_live_fresh(services, items)
    (event,) = WidespreadEvent.objects.all()
    assert said[-1] == "event.resolved" and said.count("event.resolved") == 1
    assert event.status == "resolved" and event.ended_at == later(ONSET, 200).to_pydatetime()


def run_live_fresh(services, items):
    Incident.objects.all().delete()
    return run_live(services, items)


def test_the_replay_groups_the_same_events_as_the_live_tick(two_hundred):
    providers, services = two_hundred
    items = outage_weeks(providers, seed=5)
    items += provider_outage(
        fleet_providers=providers, provider="gcp", onset=ONSET + pd.Timedelta(days=3), hit=12, region="EU", seed=6
    )
    items.sort(key=lambda i: (i["detected_at"], i["service"]))
    with_history(services, items)
    live = events()
    assert len(live) >= 2
    WidespreadEvent.objects.all().delete()
    Incident.objects.all().delete()
    load_resolved(services, items)
    # The replay of the weeks the live tick grouped (the first two are its history).
    widespread.regroup(start=T0 + pd.Timedelta(days=14), end=T0 + pd.Timedelta(days=30))
    assert events() == live


def test_grouping_an_incident_twice_changes_nothing(two_hundred):
    providers, services = two_hundred
    items = provider_outage(fleet_providers=providers, provider="azure", onset=ONSET, hit=10, seed=7)
    run_live(services, items)
    before = events()
    for member in EventMember.objects.all():
        assert widespread.group(incident_id=member.incident_id) is None
    assert events() == before


def test_the_tick_groups_an_incident_when_it_opens_after_commit(two_hundred, django_capture_on_commit_callbacks):
    providers, services = two_hundred
    items = provider_outage(fleet_providers=providers, provider="azure", onset=ONSET, hit=12, seed=8)
    items.sort(key=lambda i: i["detected_at"])  # the last one detected opens through the tick
    load_resolved(services, items[:-1])
    Incident.objects.update(status="ongoing", ended_at=None)
    last = items[-1]
    state = IncidentState(
        started_at=last["started_at"], detected_at=last["detected_at"], peak_at=last["detected_at"],
        peak_reports_per_minute=9, baseline_at_peak=1,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        save_state(service_id=services[last["service"]].pk, state=state, incident=None, events=[OPENED])
    (event,) = WidespreadEvent.objects.all()
    assert event.members.count() == 12 and event.provider == "azure"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL (SQLite serialises writers)")
def test_two_workers_grouping_at_once_form_one_event(transactional_db):
    providers = fleet(200, seed=1)
    services = make_fleet(providers)
    items = provider_outage(fleet_providers=providers, provider="gcp", onset=ONSET, hit=12, seed=9)
    load_resolved(services, items)
    Incident.objects.update(status="ongoing", ended_at=None)
    last_two = list(Incident.objects.order_by("-detected_at", "-id").values_list("id", flat=True)[:2])
    barrier, errors = threading.Barrier(2), []

    def worker(pk):
        try:
            barrier.wait()
            widespread.group(incident_id=pk)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(pk,)) for pk in last_two]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    (event,) = WidespreadEvent.objects.all()
    assert event.members.count() == 12


def test_a_member_between_its_relapses_keeps_no_event_open_for_the_replay(two_hundred):
    # Five services fail together and recover; the fifth relapses 40 minutes in (the same incident: one
    # phase more). A sixth, whose onset was near theirs but whose detection came late, at minute 25,
    # found no ongoing event live: everything had resolved by minute 20. The replay stores the relapsing
    # incident with its final end, and must still see it resolved between its phases.
    _, services = two_hundred
    items = [{"service": n, "started_at": later(ONSET, n / 2), "detected_at": later(ONSET, 4), "regions": [],
              "codes": ["503"], "ended_at": later(ONSET, 6)} for n in range(5)]  # fmt: skip
    late = {**items[0], "service": 5, "started_at": later(ONSET, 10), "detected_at": later(ONSET, 25),
            "ended_at": later(ONSET, 50)}  # fmt: skip
    load_resolved(services, [*items, late])
    phases = [[later(ONSET, 2), later(ONSET, 6)], [later(ONSET, 40), later(ONSET, 90)]]
    Incident.objects.filter(service=services[4]).update(
        ended_at=phases[-1][1], phases=[{"started_at": s.isoformat(), "ended_at": e.isoformat()} for s, e in phases]
    )
    (event,) = widespread.regroup(start=ONSET - pd.Timedelta(hours=1), end=ONSET + pd.Timedelta(hours=2))
    assert sorted(event.members.values_list("incident__service__slug", flat=True)) == [s.slug for s in services[:5]]
    assert event.ended_at == phases[-1][1] and event.status == "resolved"
