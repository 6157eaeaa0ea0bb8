"""From reports: the live tick, minute by minute, and the replay form the same widespread events.

tests/test_events.py compares the two groupings on generated incidents; here
the incidents come from the detector itself, so their scope grows as the
reports come in, and one service relapses within the merge gap, the two ways
a replay (which stores each incident as it finally stands) can see another
picture than the tick saw at each minute.
"""

import pandas as pd
import pytest

from analytics import widespread
from analytics.bucketing import bucket_range
from analytics.models import EventMember, Incident, ServiceStatus, WidespreadEvent
from analytics.replay import replay_service
from analytics.tick import run_tick
from reports.imports import import_rows
from reports.models import Service
from tests.support.widespread import events, later, outage_reports

ONSET = pd.Timestamp("2024-06-05 15:30", tz="UTC")
FROM, TO = later(ONSET, -30), later(ONSET, 135)
HIT = ["alpha", "bravo", "charlie", "delta"]
NA, EU = ["US", "CA"], ["GB", "DE", "FR"]
# relapse: back after 25 quiet minutes (resolved after 15), within the 2-hour merge gap: the same incident.
# late: starts 12 minutes in, after the event formed, and joins it.
# elsewhere: starts with the others but in Europe only, and spreads to North America 10 minutes after:
# when it was detected it overlapped no member's region, so the tick left it out; the replay must too.
SURGES = {
    **{s: [(n, 45, NA)] for n, s in enumerate(HIT)},
    "relapse": [(2, 30, NA), (55, 85, NA)],
    "late": [(12, 50, NA)],
    "elsewhere": [(3, 13, EU), (13, 50, NA + EU)],
}
UNHIT = ["quiet-one", "quiet-two"]


@pytest.fixture
def fleet(db):
    slugs = [*SURGES, *UNHIT]
    frame = outage_reports(slugs, SURGES, onset=ONSET, seed=3)
    frame = frame[frame["observed_at"] < TO]
    result = import_rows(frame[["observed_at", "service", "country", "code", "feature"]].to_dict("records"),
                         create_services=True)  # fmt: skip
    bucket_range(start=result.start, end=result.end, services=result.services)
    Service.objects.filter(slug__in=SURGES).update(providers=["aws:us-east-1"])
    Service.objects.filter(slug__in=UNHIT).update(providers=["gcp"])
    # Forty more services with no reports: providers' shares and the incident rate are the fleet's.
    Service.objects.bulk_create(
        [Service(slug=f"other-{i}", name=f"Other {i}", providers=[["gcp"], ["azure"], ["cloudflare"]][i % 3])
         for i in range(40)]
    )  # fmt: skip
    return list(Service.objects.filter(slug__in=slugs).order_by("slug"))


def _join_order() -> list[list[str]]:
    return [
        list(EventMember.objects.filter(event=e).order_by("joined_at", "id").values_list("incident__service__slug",
                                                                                            flat=True))
        for e in WidespreadEvent.objects.order_by("started_at")
    ]  # fmt: skip


def test_the_live_tick_and_the_replay_form_the_same_events(fleet, django_capture_on_commit_callbacks):
    for service in fleet:
        replay_service(service_id=service.id, start=FROM, end=TO)
    widespread.regroup(start=FROM, end=TO)
    replayed, replayed_order = events(), _join_order()
    relapsed = Incident.objects.get(service__slug="relapse")
    assert len(relapsed.phases) == 2  # the scenario has its relapse
    WidespreadEvent.objects.all().delete()
    Incident.objects.all().delete()

    ServiceStatus.objects.bulk_create([ServiceStatus(service=s, evaluated_at=FROM) for s in fleet])
    for minute in pd.date_range(later(FROM, 1), TO, freq="1min"):
        # Grouping runs after the tick's commits, which a test's transaction reaches only here.
        with django_capture_on_commit_callbacks(execute=True):
            run_tick(service_ids=[s.id for s in fleet], now=minute + pd.Timedelta(seconds=5))
    live, live_order = events(), _join_order()

    (event,) = live
    assert live_order[0][-1] == "late" and sorted(live_order[0]) == sorted(set(SURGES) - {"elsewhere"})
    elsewhere = Incident.objects.get(service__slug="elsewhere")
    assert elsewhere.tracking["onset_regions"] == ["EU"] and "NA" in elsewhere.scope["regions"]
    assert event["provider"] == "aws:us-east-1" and event["status"] == "resolved"
    assert live_order == replayed_order
    assert live == replayed
