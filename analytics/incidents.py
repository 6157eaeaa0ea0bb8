"""Incidents: the lifecycle's state saved as `Incident` rows, and read back.

The lifecycle (`analytics.core.lifecycle`) is pure; this module turns its state into
`Incident` rows and back, and publishes events after commit.
"""

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import timedelta

import pandas as pd
from django.conf import settings
from django.db import transaction

from reports.models import Service

from .core.lifecycle import OPENED, RESOLVED, UPDATED, IncidentState, LifecycleConfig
from .core.scope import scope_of
from .events import publish_incident_event, publish_widespread_event
from .models import Incident, ServiceStatus
from .widespread import Action, group, group_all, member_resolved, member_scope_changed


def lifecycle_config() -> LifecycleConfig:
    return LifecycleConfig(
        recovery_minutes=settings.TREMOR_INCIDENT_RECOVERY_MINUTES,
        merge_gap=timedelta(hours=settings.TREMOR_INCIDENT_MERGE_HOURS),
    )


def _iso(moment) -> str | None:
    return None if moment is None else pd.Timestamp(moment).isoformat()


def _ts(value) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value)


def state_of(incident: Incident) -> IncidentState:
    tracking = incident.tracking or {}
    return IncidentState(
        started_at=pd.Timestamp(incident.started_at),
        detected_at=pd.Timestamp(incident.detected_at),
        peak_at=pd.Timestamp(incident.peak_at),
        peak_reports_per_minute=incident.peak_reports_per_minute,
        baseline_at_peak=incident.baseline_at_peak,
        excess_reports=incident.excess_reports,
        level=incident.level,
        status=incident.status,
        ended_at=_ts(incident.ended_at),
        phases=[[_ts(p["started_at"]), _ts(p["ended_at"])] for p in incident.phases],
        alarm_keys=set(tracking.get("alarm_keys", [])),
        recovering_since=_ts(tracking.get("recovering_since")),
        sums={key: tuple(v) for key, v in tracking.get("sums", {}).items()},
    )


def locked_statuses(*, service_ids: Sequence[int]) -> dict[int, ServiceStatus]:
    """The services' status rows, created when missing, locked until the caller's transaction ends.

    Locked in service order, so two workers ticking overlapping batches wait for each other
    and cannot deadlock. A service deleted meanwhile has none (and is not ticked).
    """

    def locked(ids: list[int]) -> dict[int, ServiceStatus]:
        rows = ServiceStatus.objects.select_for_update().filter(service_id__in=ids).order_by("service_id")
        return {status.service_id: status for status in rows}

    found = locked(sorted(service_ids))
    if missing := sorted(set(service_ids) - set(found)):
        existing = Service.objects.filter(id__in=missing).values_list("id", flat=True)
        ServiceStatus.objects.bulk_create([ServiceStatus(service_id=s) for s in existing], ignore_conflicts=True)
        found |= locked(missing)
    return found


def save_statuses(statuses: Sequence[ServiceStatus]) -> None:
    """Write these statuses' verdicts: one UPDATE per distinct (level, minute, incident), not one per service.

    A batch's quiet services share one verdict (normal, the same minute, no incident): usually
    one or two UPDATEs for the whole batch. Django's bulk_update would build a CASE per row and
    field, slower in Python than the round trips it saves.
    """
    verdicts: dict[tuple, list[int]] = defaultdict(list)
    for status in statuses:
        verdicts[(status.level, status.evaluated_at, status.incident_id)].append(status.service_id)
    for (level, evaluated_at, incident_id), ids in verdicts.items():
        ServiceStatus.objects.filter(service_id__in=ids).update(
            level=level, evaluated_at=evaluated_at, incident_id=incident_id
        )


# The grouping actions of the tick batch being run (`grouping_batch`), or None: each runs on its own.
_batch: ContextVar[list[Action] | None] = ContextVar("grouping_batch", default=None)


@contextmanager
def grouping_batch() -> Iterator[None]:
    """Hold the grouping actions of the incidents committed inside, and run them together at the end
    (widespread.group_all: one transaction, one lock), not one transaction each after every commit.

    The price: a worker killed (SIGKILL) before the end loses the grouping of what it had committed.
    """
    actions: list[Action] = []
    token = _batch.set(actions)
    try:
        yield
    finally:
        _batch.reset(token)
        if actions:  # committed incidents: grouped even when a later service's tick failed
            group_all(actions=actions)


def _after_commit(name: str, **kwargs) -> None:
    """Run a grouping action after commit: alone, or held by the `grouping_batch` open then."""

    def run() -> None:
        actions = _batch.get()
        if actions is not None:
            actions.append((name, kwargs))
            return
        hooks = {"group": group, "member_resolved": member_resolved, "member_scope_changed": member_scope_changed}
        hooks[name](**kwargs)

    transaction.on_commit(run, robust=True)


def save_state(*, service_id: int, state: IncidentState, incident: Incident | None, events: list[str]) -> Incident:
    """Write the state to its Incident row (a new one when `incident` is None); events go out after commit."""
    scope, shares, regional = scope_of(state)
    scope_changed = incident is not None and scope != incident.scope
    if scope_changed and not events:
        events = [UPDATED]
    onset_regions = (incident.tracking or {}).get("onset_regions") if incident is not None else None
    if onset_regions is None:  # the first save, live or replayed: the scope at detection, kept from then on
        onset_scope, _, onset_regional = scope_of(replace(state, sums=state.onset_sums or state.sums))
        onset_regions = onset_scope["regions"] if onset_regional else []
    incident = incident or Incident(service_id=service_id)
    incident.status = state.status
    incident.level = state.level
    incident.started_at = state.started_at.to_pydatetime()
    incident.detected_at = state.detected_at.to_pydatetime()
    incident.peak_at = state.peak_at.to_pydatetime()
    incident.ended_at = None if state.ended_at is None else state.ended_at.to_pydatetime()
    incident.peak_reports_per_minute = round(state.peak_reports_per_minute, 3)
    incident.baseline_at_peak = round(state.baseline_at_peak, 3)
    incident.excess_reports = round(state.excess_reports, 1)
    incident.scope, incident.scope_shares, incident.is_regional = scope, shares, regional
    incident.phases = [{"started_at": _iso(start), "ended_at": _iso(end)} for start, end in state.phases]
    incident.tracking = {
        "alarm_keys": sorted(state.alarm_keys),
        "recovering_since": _iso(state.recovering_since),
        "sums": {key: [o, e] for key, (o, e) in state.sums.items()},
        "onset_regions": onset_regions,  # [] worldwide
    }
    incident.save()
    for event in dict.fromkeys(events):
        # Robust: the tick commits a batch of services at once, and one receiver's error must not
        # keep the events of the others (committed with it) from going out.
        transaction.on_commit(
            lambda event=event, pk=incident.pk: publish_incident_event(incident_id=pk, event=event), robust=True
        )
    # Widespread events only when an incident opens or resolves, after commit (the grouping must see
    # the other workers' committed incidents); robust: a grouping error is logged, never the tick's.
    if OPENED in events:
        _after_commit("group", incident_id=incident.pk, announce=publish_widespread_event)
    elif RESOLVED in events:
        _after_commit("member_resolved", incident_id=incident.pk, announce=publish_widespread_event)
    if scope_changed and OPENED not in events:
        # An event shows its members' scopes as they are now, as the replay (which stores final scopes) does.
        _after_commit("member_scope_changed", incident_id=incident.pk)
    return incident
