"""The chart band around a replayed long outage is the detector's baseline, not lifted by the outage.

Issue 13, item 5: the "typical level" a reader sees at time t is the expected
value the detector used at t. A 15-hour EU 503 outage (the 14 Feb 2023 shape)
is replayed so that it ended an hour ago; the band must then agree with the
reports before it, with the baseline the incident itself names at its peak,
and with the ordinary reports of the hour after it.
"""

from datetime import timedelta

import pandas as pd
import pytest

from analytics.band import baseline_band
from analytics.bucketing import bucket_range
from analytics.models import Incident
from analytics.replay import replay_service
from analytics.selectors import timeseries
from demo import scenarios
from reports.imports import import_rows
from reports.models import Service
from reports.services import service_create
from tests.conftest import TESLA_FEATURES

OUTAGE_HOURS = 15  # the 14 Feb 2023 overlay's length
# A fixed clock: the band's lift after the outage depends on the hour it ends (the hour's share of the
# day), so a clock taken from `timezone.now()` passed or failed with the time of the run.
# 06:20 UTC on a Wednesday is the hour of the CI run that showed the lift at 1.50x.
NOW = pd.Timestamp("2026-11-25T06:20Z")


def load(slug: str, frame: pd.DataFrame, *, now: pd.Timestamp, replay_from: pd.Timestamp) -> None:
    frame = frame.assign(service=slug)
    result = import_rows(frame[frame["observed_at"] < now][scenarios.CSV_COLUMNS].to_dict("records"))
    bucket_range(start=result.start, end=result.end, services=[slug])
    replay_service(service_id=Service.objects.get(slug=slug).id, start=replay_from, end=now)


@pytest.fixture
def after_outage(tesla):
    """Tesla with the outage, and its twin: the same reports without the outage (what "not lifted" means)."""
    now = NOW
    onset = now - pd.Timedelta(hours=OUTAGE_HOURS + 1)
    bg_seed, ov_seed = scenarios.child_seeds(5)
    bg = scenarios.background(service="tesla", start=now - pd.Timedelta(days=14), end=now, seed=bg_seed)
    ov = scenarios.outage_2023_02_14(onset=onset, service="tesla", seed=ov_seed)
    # The twin's id is the next one: its refit grid is one minute later, which the band follows.
    twin = service_create(slug="twin", name="Twin", features=TESLA_FEATURES)
    load("tesla", scenarios.concat(bg, ov), now=now, replay_from=onset - pd.Timedelta(hours=12))
    load("twin", bg, now=now, replay_from=onset - pd.Timedelta(hours=12))
    incident = Incident.objects.get(service=tesla, started_at__gte=onset - pd.Timedelta(hours=1))
    return tesla, twin, onset, now, incident


def typical(service_id: int, start, end) -> float:
    """Mean typical level in reports per 15 minutes over [start, end), as the chart draws it."""
    band = baseline_band(service_id=service_id, start=start, end=end, interval="15m")
    return float(band["expected"].mean())


def observed(service_id: int, start, end) -> float:
    return float(timeseries(service_id=service_id, start=start, end=end, interval="15m").mean())


@pytest.mark.django_db
def test_before_the_outage_the_band_is_the_reports_own_level(after_outage):
    tesla, _twin, onset, _now, _incident = after_outage
    start = onset - pd.Timedelta(hours=6)
    band, seen = typical(tesla.id, start, onset), observed(tesla.id, start, onset)
    assert 1 / 1.5 <= band / seen <= 1.5, (band, seen)


@pytest.mark.django_db
def test_at_its_peak_the_band_is_the_baseline_the_incident_names(after_outage):
    tesla, _twin, _onset, _now, incident = after_outage
    peak = pd.Timestamp(incident.peak_at).floor("15min")
    band = typical(tesla.id, peak, peak + timedelta(minutes=15)) / 15  # per minute, as the incident says it
    assert incident.baseline_at_peak > 0
    assert 1 / 1.5 <= band / incident.baseline_at_peak <= 1.5, (band, incident.baseline_at_peak)


@pytest.mark.django_db
def test_an_hour_after_it_the_band_is_not_lifted(after_outage):
    # Against the twin's band, not the hour's own reports: at night the profile's
    # hourly slots and their prior already sit above a quiet hour, with or without
    # an outage; what must not happen is the outage lifting it (issue 13 saw 10x).
    tesla, twin, _onset, now, incident = after_outage
    assert incident.status == Incident.Status.RESOLVED
    start, end = (now - pd.Timedelta(hours=1)).ceil("15min"), now.floor("15min")  # whole buckets
    lifted, clean = typical(tesla.id, start, end), typical(twin.id, start, end)
    # 1.05x on SQLite since the first outlier mask compares rows with a typical day (session 7); 1.61x
    # before, when the first pass learnt the outage (its weekday's factor 2x, the level 1.7x) and masked
    # nothing of it.
    assert lifted / clean <= 1.2, (lifted, clean)
