"""A tick batch reads and writes its services in a constant number of queries, and commits them together.

analytics.tick.run_tick used to cost four round trips and a commit per service
(bench 4b: half of a warm 1,000-service tick). Now a batch's statuses, latest
incidents and status writes are one query each; only an incident that changes
costs a write of its own. A service that fails is left for the next tick
without taking the others' verdicts with it.
"""

import pandas as pd
import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from analytics import fitting, tick
from analytics.models import Incident, ServiceStatus
from tests.support.reports import quiet_fleet

END = pd.Timestamp("2024-03-04 15:00Z")


@pytest.fixture
def fleet(db):
    """30 quiet services with two days of reports before END, their profiles fitted."""
    ids = quiet_fleet(30, end=END, every="20min")
    fitting.fit_ahead(now=END + pd.Timedelta(seconds=5), seconds=float("inf"), service_ids=ids)
    return ids


def _tick(ids: list[int], minute: int) -> int:
    return tick.run_tick(service_ids=ids, now=END + pd.Timedelta(minutes=minute, seconds=5))


def _queries_of_tick(ids: list[int], minute: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert _tick(ids, minute) == len(ids)  # every service evaluated its one new minute
    return len(queries.captured_queries)


def test_the_queries_of_a_tick_do_not_grow_with_the_number_of_services(fleet):
    _tick(fleet, 0)  # every status row created, the profiles in Redis
    few, many = _queries_of_tick(fleet[:3], 1), _queries_of_tick(fleet[3:], 1)
    assert few == many, f"3 services: {few} queries, 27 services: {many}"
    assert many <= 12


def test_the_first_tick_of_new_services_creates_their_statuses_in_a_constant_number_of_queries(fleet):
    few, many = _queries_of_tick(fleet[:3], 0), _queries_of_tick(fleet[3:], 0)
    assert few == many
    assert ServiceStatus.objects.filter(service_id__in=fleet, evaluated_at=END - pd.Timedelta(minutes=1)).count() == 30


def test_a_service_that_fails_to_score_leaves_the_others_saved_and_the_error_raised(fleet, monkeypatch):
    real = tick.score_window

    def score_window(**kwargs):
        if kwargs["service_id"] == fleet[1]:
            raise RuntimeError("broken service")
        return real(**kwargs)

    monkeypatch.setattr(tick, "score_window", score_window)
    with pytest.raises(RuntimeError, match="broken service"):
        _tick(fleet[:3], 0)
    evaluated = set(ServiceStatus.objects.exclude(evaluated_at=None).values_list("service_id", flat=True))
    assert evaluated == {fleet[0], fleet[2]}
    monkeypatch.setattr(tick, "score_window", real)
    assert _tick(fleet[:3], 0) == 1  # the next tick evaluates the one left, and only it


def test_an_incident_write_that_fails_loses_that_service_only(fleet, monkeypatch):
    # An ongoing incident the tick continues (and saves) for one service.
    at = END - pd.Timedelta(minutes=30)
    ongoing = Incident.objects.create(service_id=fleet[1], started_at=at, detected_at=at, peak_at=at, level=2,
                                      peak_reports_per_minute=9, baseline_at_peak=1, excess_reports=8)  # fmt: skip
    real = tick.save_state

    def save_state(**kwargs):
        # A second ongoing incident of the service: refused by the database, which on PostgreSQL
        # aborts the transaction it is in unless the write has a savepoint of its own.
        Incident.objects.create(service_id=kwargs["service_id"], started_at=at, detected_at=at, peak_at=at,
                                peak_reports_per_minute=9, baseline_at_peak=1, excess_reports=8)  # fmt: skip
        return real(**kwargs)

    monkeypatch.setattr(tick, "save_state", save_state)
    with pytest.raises(IntegrityError):
        _tick(fleet[:3], 0)
    statuses = {s.service_id: s for s in ServiceStatus.objects.filter(service_id__in=fleet[:3])}
    assert statuses[fleet[0]].evaluated_at == statuses[fleet[2]].evaluated_at == END - pd.Timedelta(minutes=1)
    assert statuses[fleet[1]].evaluated_at is None  # its minute is evaluated again by the next tick
    assert list(Incident.objects.values_list("pk", flat=True)) == [ongoing.pk]

    monkeypatch.setattr(tick, "save_state", real)
    assert _tick(fleet[:3], 0) == 1
    status = ServiceStatus.objects.get(service_id=fleet[1])
    assert status.evaluated_at == END - pd.Timedelta(minutes=1)
    ongoing.refresh_from_db()
    # Saved with its status, in the same transaction: the status points at the incident it continued.
    assert ongoing.status == Incident.Status.ONGOING and status.incident_id == ongoing.pk
