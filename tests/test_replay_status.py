"""`manage.py replay` of a stream that ends now leaves the service's status as the tick would."""

from datetime import timedelta

import pandas as pd
import pytest
from django.core.management import call_command
from django.utils import timezone

from analytics.models import Incident, ServiceStatus
from demo import scenarios as sc


def replay(tmp_path, *, end) -> None:
    path = tmp_path / "stream.csv"
    sc.to_csv(sc.shift(sc.event_2021_11_19(seed=3), to_end=end), path)
    call_command("replay", str(path), "--create-services", stdout=open(tmp_path / "out.txt", "w"))


@pytest.mark.django_db
def test_the_status_endpoint_has_the_replays_verdict_when_the_stream_reaches_now(tmp_path, api):
    now = timezone.now()
    replay(tmp_path, end=pd.Timestamp(now) - pd.Timedelta(seconds=30))
    body = api.get("/api/v1/services/tesla/status/").json()
    assert body["level"] != "unknown" and body["evaluated_at"] is not None
    evaluated = pd.Timestamp(body["evaluated_at"])
    assert now - timedelta(minutes=3) < evaluated <= now
    ongoing = Incident.objects.filter(service__slug="tesla", status=Incident.Status.ONGOING).first()
    assert body["incident"] == (ongoing.pk if ongoing else None)
    assert Incident.objects.filter(service__slug="tesla").exists()


@pytest.mark.django_db
def test_a_replay_of_the_past_leaves_the_current_status_to_the_tick(tmp_path, api):
    replay(tmp_path, end="2021-11-20T02:00Z")
    assert not ServiceStatus.objects.filter(service__slug="tesla").exists()
    assert api.get("/api/v1/services/tesla/status/").json()["level"] == "unknown"
