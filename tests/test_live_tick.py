"""The live tick and the replay give the same incident, minute for minute."""

import pandas as pd
import pytest

from analytics.bucketing import bucket_range
from analytics.models import Incident, ServiceStatus
from analytics.replay import replay_service
from analytics.serializers import IncidentSerializer
from analytics.tick import run_tick
from demo import scenarios
from reports.imports import import_rows
from reports.models import Service

COMPARED = ["started_at", "detected_at", "peak_at", "ended_at", "status", "scope", "scope_shares", "is_regional",
            "phases", "peak_reports_per_minute", "baseline_at_peak"]  # fmt: skip


@pytest.fixture
def nov19(db, request):
    # An explicit id sets the service's refit offset (analytics.core.refit: id mod 360 minutes).
    service_id = getattr(request, "param", None)
    if service_id is not None:
        Service.objects.create(id=service_id, slug="tesla", name="tesla")
    frame = scenarios.event_2021_11_19()
    frame = frame[frame["observed_at"] < pd.Timestamp("2021-11-19 22:50", tz="UTC")]
    result = import_rows(frame[scenarios.CSV_COLUMNS].to_dict("records"), create_services=True)
    bucket_range(start=result.start, end=result.end, services=result.services)
    return Service.objects.get(slug="tesla")


# 360: offset 0, refits at 18:00 and 00:00 as before staggering, none while the ticks run. 200:
# refits at 21:20, in the middle of the incident, so for 90 minutes each tick's window spans two profiles.
@pytest.mark.parametrize("nov19", [360, 200], indirect=True, ids=["offset_0", "refit_mid_incident"])
def test_the_tick_opens_and_resolves_the_incident_the_replay_finds(nov19):
    replayed = replay_service(
        service_id=nov19.id,
        start=pd.Timestamp("2021-11-19 20:45", tz="UTC"),
        end=pd.Timestamp("2021-11-19 22:50", tz="UTC"),
    ).incidents
    assert len(replayed) == 1
    expected = {k: IncidentSerializer(replayed[0]).data[k] for k in COMPARED}
    Incident.objects.all().delete()

    ServiceStatus.objects.create(service=nov19, evaluated_at=pd.Timestamp("2021-11-19 20:44", tz="UTC"))
    for minute in pd.date_range("2021-11-19 20:46", "2021-11-19 22:50", freq="1min", tz="UTC"):
        run_tick(service_ids=[nov19.id], now=minute + pd.Timedelta(seconds=5))
        if minute == pd.Timestamp("2021-11-19 21:20", tz="UTC"):
            status = ServiceStatus.objects.get(service=nov19)
            assert status.level == 2 and status.incident is not None  # the page shows it while ongoing
    (live,) = Incident.objects.all()
    assert {k: IncidentSerializer(live).data[k] for k in COMPARED} == expected


def test_a_tick_run_twice_for_the_same_minute_evaluates_it_once(nov19):
    now = pd.Timestamp("2021-11-19 21:30:05", tz="UTC")
    ServiceStatus.objects.create(service=nov19, evaluated_at=pd.Timestamp("2021-11-19 21:20", tz="UTC"))
    assert run_tick(service_ids=[nov19.id], now=now) == 9
    assert run_tick(service_ids=[nov19.id], now=now) == 0
    assert Incident.objects.count() == 1
