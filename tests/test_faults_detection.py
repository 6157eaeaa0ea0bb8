"""A Celery worker killed (SIGKILL) in the middle of a detection tick.

Each batch's verdicts commit at once, under row locks on its services'
ServiceStatus, so the next tick evaluates exactly the services and minutes the
dead one had not committed: no incident is lost, none is opened twice.
"""

import time
from datetime import timedelta

from django.utils import timezone

from analytics.models import Incident, ServiceStatus
from analytics.tasks import detect_tick
from reports.models import Report
from reports.services import service_create
from tests.conftest import database_url_of_test_db
from tests.support.servers import CeleryWorker, app_env

HISTORY_DAYS = 4  # the detector stays quiet before two days of history
SPIKE_MINUTES, SPIKE_PER_MINUTE = 12, 40


def _seed(service, now) -> None:
    """One report every 3 minutes for four days, then an outage: 40 a minute for 12 minutes."""
    feature = service.features.get(slug="climate")
    rows = []
    for age in range(1, HISTORY_DAYS * 1440):
        if age > SPIKE_MINUTES and age % 3:
            continue
        at = now - timedelta(minutes=age)
        n = SPIKE_PER_MINUTE if age <= SPIKE_MINUTES else 1
        rows += [
            Report(
                service=service,
                feature=feature,
                code="503",
                country="FR",
                region="EU",
                observed_at=at,
                received_at=at,
                source="api",
            )
            for _ in range(n)
        ]
    Report.objects.bulk_create(rows, batch_size=5000)


def _env(**extra: str) -> dict[str, str]:
    # Batches of one service: the worker can be killed after one committed batch, before the next.
    return app_env(**{"DATABASE_URL": database_url_of_test_db(), "TREMOR_TICK_BATCH": "1", **extra})


def _next_ticks(tmp_path) -> None:
    """The next tick on a healthy worker until both services are evaluated, then a duplicate one."""
    worker = CeleryWorker(_env(), tmp_path / "worker.log", name="w2").start()
    try:
        detect_tick.delay()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and ServiceStatus.objects.exclude(evaluated_at=None).count() < 2:
            time.sleep(0.3)
        detect_tick.delay()  # the duplicate evaluates nothing twice
        time.sleep(3)
    finally:
        worker.stop()


def test_a_worker_killed_mid_tick_leaves_the_next_tick_to_finish_exactly_once(tesla, transactional_db, tmp_path):
    other = service_create(slug="other", name="Other", features=["climate"])
    now = timezone.now()
    _seed(tesla, now)
    _seed(other, now)

    slow = CeleryWorker(_env(TREMOR_FAULT_DELAY="20"), tmp_path / "slow.log", app="tests.support.slow_celery")
    slow.start()
    try:
        detect_tick.delay()  # fans out two batches, one service each
        slow.wait_for_log("FAULT-HOOK detected services", timeout=60)
        slow.kill()  # SIGKILL after the first batch committed, before the second
    finally:
        slow.stop()
    done_first = list(ServiceStatus.objects.exclude(evaluated_at=None).values_list("service_id", flat=True))
    assert len(done_first) == 1, "the worker should have died between the two services"
    first_incident = Incident.objects.get(service_id=done_first[0])

    _next_ticks(tmp_path)

    statuses = {s.service_id: s for s in ServiceStatus.objects.all()}
    assert set(statuses) == {tesla.id, other.id}
    assert {s.level for s in statuses.values()} == {2}
    for service in (tesla, other):
        incidents = list(Incident.objects.filter(service=service))
        assert len(incidents) == 1, incidents  # opened once, never twice
        assert incidents[0].status == Incident.Status.ONGOING
        assert statuses[service.id].incident_id == incidents[0].id
    # The incident the dead worker committed is the one that lives on, as it was opened.
    survivor = Incident.objects.get(service_id=done_first[0])
    assert survivor.pk == first_incident.pk and survivor.detected_at == first_incident.detected_at
    print(f"killed after service {done_first[0]}; the next tick completed the other; 2 incidents, 1 each")


def test_a_worker_killed_inside_a_batch_commits_none_of_it_and_the_next_tick_does_it_once(
    tesla, transactional_db, tmp_path
):
    other = service_create(slug="other", name="Other", features=["climate"])
    now = timezone.now()
    _seed(tesla, now)
    _seed(other, now)

    env = _env(TREMOR_FAULT_DELAY="20", TREMOR_FAULT_IN_BATCH="1", TREMOR_TICK_BATCH="10")
    slow = CeleryWorker(env, tmp_path / "slow.log", app="tests.support.slow_celery").start()
    try:
        detect_tick.delay()  # one batch with both services
        slow.wait_for_log("FAULT-HOOK stepped service", timeout=60)
        slow.kill()  # SIGKILL after the first service was stepped (its incident written), before the commit
    finally:
        slow.stop()
    assert not ServiceStatus.objects.exclude(evaluated_at=None).exists()
    assert not Incident.objects.exists()

    _next_ticks(tmp_path)
    statuses = {s.service_id: s for s in ServiceStatus.objects.all()}
    assert {s.level for s in statuses.values()} == {2}
    for service in (tesla, other):
        (incident,) = Incident.objects.filter(service=service)  # opened once
        assert statuses[service.id].incident_id == incident.id
