"""Widespread events in the database: the grouping rule (analytics.core.grouping) applied to incidents.

The live tick groups an incident (`group`, `member_resolved`, `member_scope_changed`)
after its transaction commits (analytics.incidents.save_state), so grouping costs
nothing on a tick where no incident opens or resolves; a tick batch holds its
services' actions and runs them in order at its end in one transaction (`group_all`).
The replay calls `regroup` after every service is replayed: the same functions in
detection order, each seeing the incidents as they stood at that incident's
detection (`as_of`), which is what the live tick saw.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q

from reports.models import Service

from .core.grouping import (
    DEFAULT_GROUPING,
    EventView,
    GroupingConfig,
    Onset,
    attribute_provider,
    cluster_chance,
    combined_scope,
    form,
    join_target,
    pooled_rate,
)
from .core.lifecycle import ONE_MINUTE, LifecycleConfig, recovery_quiet
from .models import EventGroupingLock, EventMember, Incident, WidespreadEvent

# Sent (event_id, event type, incident_id or None) after commit; analytics.events connects webhooks.
Announce = Callable[[int, str, int | None], None]
OPENED, JOINED, RESOLVED = "event.opened", "event.service_joined", "event.resolved"
EVENT_TYPES = (OPENED, JOINED, RESOLVED)
log = logging.getLogger(__name__)


def _regions_now(incident: Incident) -> frozenset[str]:
    return frozenset((incident.scope or {}).get("regions", [])) if incident.is_regional else frozenset()


def _onset(incident: Incident, *, now: bool = False) -> Onset:
    """The incident as the grouping decides on it: its regions at detection (`now`: as they are now).

    The scope grows as reports come in; the live tick groups an incident when it
    opens, while a replay stores it as it finally stands. Deciding on the scope
    at detection (kept by the lifecycle, analytics.incidents) gives both the same events.
    """
    scope = incident.scope or {}
    at_onset = (incident.tracking or {}).get("onset_regions")
    regions = _regions_now(incident) if now or at_onset is None else frozenset(at_onset)
    return Onset(
        incident_id=incident.pk,
        service_id=incident.service_id,
        started_at=pd.Timestamp(incident.started_at),
        regions=regions,
        codes=frozenset(scope.get("codes", [])),
        providers=frozenset(incident.service.providers or []),
    )


def chance_rate(*, before: datetime, known_at: datetime, config: GroupingConfig = DEFAULT_GROUPING) -> float:
    """Pooled onsets per minute of the active services, from their incidents started before `before`.

    Only incidents detected by `known_at`: what the live tick could count then, so the replay counts the same.
    """
    since = before - timedelta(days=config.history_days)
    incidents = Incident.objects.filter(
        service__active=True, started_at__gte=since, started_at__lt=before, detected_at__lte=known_at
    ).count()
    return pooled_rate(incidents=incidents, services=Service.objects.filter(active=True).count(), config=config)


# Each provider's count of active services (a service naming one twice counts once) and, in the row
# whose name is NULL, the count of active services: a handful of rows, where reading every service's
# list was 1,000 rows per form or join. A `providers` that is not a list names none.
_PROVIDER_COUNTS = {
    "postgresql": (
        "SELECT p.name, COUNT(DISTINCT s.id) FROM {table} s CROSS JOIN LATERAL jsonb_array_elements_text("
        "CASE WHEN jsonb_typeof(s.providers) = 'array' THEN s.providers ELSE '[]' END) AS p(name)"
        " WHERE s.active AND p.name IS NOT NULL GROUP BY p.name"
    ),
    "sqlite": (
        "SELECT p.value, COUNT(DISTINCT s.id) FROM {table} s, json_each(s.providers) AS p"
        " WHERE s.active AND json_type(s.providers) = 'array' AND p.value IS NOT NULL GROUP BY p.value"
    ),
}


def provider_shares() -> dict[str, float]:
    """Each provider's share of the active services."""
    table = Service._meta.db_table
    counts = _PROVIDER_COUNTS[connection.vendor].format(table=table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT NULL, COUNT(*) FROM {table} WHERE active UNION ALL {counts}")
        rows = cursor.fetchall()
    total = next(n for name, n in rows if name is None)
    return {name: n / total for name, n in rows if name is not None} if total else {}


def _ongoing_at(incident: Incident, as_of: datetime) -> bool:
    """Whether the incident was open at `as_of`, also when the replay knows its end already.

    The lifecycle resolves a phase its recovery quiet less a minute after the
    end it stamps (its first recovered minute): until then the live tick saw it
    ongoing. Between a phase's end and a relapse (a later phase of the same
    incident) the tick saw it resolved, though a replay stores only its final end.
    """
    config = LifecycleConfig(recovery_minutes=settings.TREMOR_INCIDENT_RECOVERY_MINUTES)

    def resolved(end) -> pd.Timestamp:
        end = pd.Timestamp(end)
        return end + recovery_quiet(config, pd.Timestamp(incident.started_at), end) - ONE_MINUTE

    phases = [(p["started_at"], p["ended_at"]) for p in incident.phases or []]
    if not phases:
        return incident.ended_at is None or resolved(incident.ended_at) > as_of
    for n, (start, end) in enumerate(phases):
        opened = incident.detected_at if n == 0 else pd.Timestamp(start)
        if opened <= as_of and (end is None or resolved(end) > as_of):
            return True
    return False


@dataclass
class _Ongoing:
    event: WidespreadEvent
    view: EventView
    members: list[EventMember]  # in EventMember's order, each with its incident and service


def _ongoing_events(as_of: datetime) -> list[_Ongoing]:
    """Events some member of which was still ongoing at `as_of`, with their members (one query)."""
    rows = EventMember.objects.filter(
        event__started_at__gte=as_of - timedelta(days=2), event__detected_at__lte=as_of
    ).select_related("event", "incident__service")
    by_event: dict[int, list[EventMember]] = {}
    for member in rows:
        by_event.setdefault(member.event_id, []).append(member)
    ongoing = []
    for members in by_event.values():
        incidents = [m.incident for m in members]
        if not any(_ongoing_at(i, as_of) for i in incidents):
            continue
        onsets = [_onset(i) for i in incidents]
        regions = frozenset() if any(not o.regions for o in onsets) else frozenset().union(*(o.regions for o in onsets))
        starts = [o.started_at for o in onsets]
        event = members[0].event
        ongoing.append(_Ongoing(event, EventView(event.pk, min(starts), max(starts), regions), members))
    return ongoing


def _refresh(event: WidespreadEvent, incidents: list[Incident], *, shares: dict[str, float]) -> None:
    """Scope, start and provider from the members (in EventMember's order) as they are now.

    `incidents` were read in this transaction, under the grouping lock: what a reload would read.
    """
    onsets = [_onset(i) for i in incidents]
    event.scope = combined_scope([_onset(i, now=True) for i in incidents])
    event.started_at = min(i.started_at for i in incidents)
    event.chance = cluster_chance(onsets, rate=event.rate_per_minute)
    attribution = attribute_provider(onsets, shares=shares)
    event.provider = attribution.provider if attribution else ""
    event.provider_members = attribution.members if attribution else 0
    event.provider_share = attribution.share if attribution else None
    event.save()


def _lock() -> None:
    EventGroupingLock.objects.select_for_update().get_or_create(id=1)


class _Shares:
    """The providers' shares, read once per transaction (under the grouping lock) when first needed."""

    def __init__(self) -> None:
        self._shares: dict[str, float] | None = None

    def __call__(self) -> dict[str, float]:
        if self._shares is None:
            self._shares = provider_shares()
        return self._shares


# What analytics.incidents runs after an incident's commit, by name: (name, keyword arguments).
Action = tuple[str, dict]


def group_all(*, actions: list[Action]) -> None:
    """Run a tick batch's groupings in order, in one transaction under one lock (one commit, one read
    of the shares), instead of one each; when one fails, each runs alone (a failure is logged, never raised).

    Each still sees every incident committed before it runs: the batch's other services' too, as the
    replay does (it sees every incident detected by then), where grouping after each service's commit
    saw only the services before it.
    """
    shares = _Shares()
    inner: dict[str, Callable[..., object]] = {
        "group": lambda **kwargs: _group(**kwargs, shares=shares),
        "member_resolved": _member_resolved,
        "member_scope_changed": _member_scope_changed,
    }
    try:
        with transaction.atomic():
            _lock()
            for name, kwargs in actions:
                inner[name](**kwargs)
    except Exception:
        log.exception("grouping %d actions together failed: each alone", len(actions))
        alone = {"group": group, "member_resolved": member_resolved, "member_scope_changed": member_scope_changed}
        for name, kwargs in actions:
            try:
                alone[name](**kwargs)
            except Exception:
                log.exception("grouping %s %s failed", name, kwargs)


def group(*, incident_id: int, as_of: datetime | None = None, announce: Announce | None = None) -> str | None:
    """Put a newly opened incident in an event (joining one, or forming one); returns what happened."""
    with transaction.atomic():
        _lock()
        return _group(incident_id=incident_id, as_of=as_of, announce=announce, shares=_Shares())


def _group(
    *, incident_id: int, as_of: datetime | None = None, announce: Announce | None = None, shares: _Shares
) -> str | None:
    incident = Incident.objects.select_related("service", "event_membership").filter(pk=incident_id).first()
    if incident is None or hasattr(incident, "event_membership"):
        return None  # gone, or grouped already (a rerun)
    as_of = as_of or incident.detected_at
    new = _onset(incident)
    ongoing = _ongoing_events(as_of)
    target = join_target(new, [o.view for o in ongoing])
    if target is not None:
        joined = next(o for o in ongoing if o.event.pk == target)
        event = joined.event
        members = [*joined.members, EventMember.objects.create(event=event, incident=incident, joined_at=as_of)]
        members.sort(key=lambda m: (m.joined_at, m.incident.started_at, m.pk))  # EventMember.Meta.ordering
        event.status, event.ended_at = WidespreadEvent.Status.ONGOING, None
        _refresh(event, [m.incident for m in members], shares=shares())
        _after_commit(announce, event.pk, JOINED, incident.pk)
        return JOINED
    width = timedelta(minutes=DEFAULT_GROUPING.window_minutes)
    nearby = (
        Incident.objects.select_related("service")
        .filter(service__active=True, event_membership__isnull=True, detected_at__lte=as_of)
        .filter(started_at__gte=incident.started_at - width, started_at__lte=incident.started_at + width)
        .exclude(pk=incident.pk)
    )
    read = {i.pk: i for i in [incident, *nearby]}
    others = [_onset(i) for pk, i in read.items() if pk != incident.pk]
    if len({o.service_id for o in others} - {new.service_id}) + 1 < DEFAULT_GROUPING.min_services:
        return None  # the common case: too few incidents nearby to test, no rate to count
    rate = chance_rate(before=incident.started_at - width, known_at=as_of)
    formed = form(new, others, rate=rate)
    if formed is None:
        return None
    event = WidespreadEvent(
        status=WidespreadEvent.Status.ONGOING, started_at=formed.members[0].started_at, detected_at=as_of,
        rate_per_minute=rate, chance=formed.chance,
    )  # fmt: skip
    event.save()
    EventMember.objects.bulk_create(
        [EventMember(event=event, incident_id=m.incident_id, joined_at=as_of) for m in formed.members]
    )
    # One joined_at: EventMember's order is the onsets' (started_at, then id, as bulk_create numbered them).
    _refresh(event, [read[m.incident_id] for m in formed.members], shares=shares())
    _after_commit(announce, event.pk, OPENED, None)
    return OPENED


def member_resolved(*, incident_id: int, announce: Announce | None = None) -> bool:
    """Close the incident's event when this was its last ongoing member; True if it closed."""
    with transaction.atomic():
        _lock()
        return _member_resolved(incident_id=incident_id, announce=announce)


def _member_resolved(*, incident_id: int, announce: Announce | None) -> bool:
    membership = EventMember.objects.select_related("event").filter(incident_id=incident_id).first()
    if membership is None:
        return False
    event = membership.event
    ends = list(Incident.objects.filter(event_membership__event=event).values_list("ended_at", flat=True))
    if any(end is None for end in ends):
        return False
    if event.status == WidespreadEvent.Status.RESOLVED:
        # A member that relapsed and resolved again moves the end; the event was announced resolved already.
        if event.ended_at != max(ends):
            event.ended_at = max(ends)
            event.save(update_fields=["ended_at", "updated_at"])
        return False
    event.status, event.ended_at = WidespreadEvent.Status.RESOLVED, max(ends)
    event.save(update_fields=["status", "ended_at", "updated_at"])
    _after_commit(announce, event.pk, RESOLVED, incident_id)
    return True


def member_scope_changed(*, incident_id: int) -> bool:
    """Show a member's new scope in its event's; True if the incident is in an event."""
    if not EventMember.objects.filter(incident_id=incident_id).exists():
        return False  # the common case: one query, no lock (a join after this reads the scope itself)
    with transaction.atomic():
        _lock()
        return _member_scope_changed(incident_id=incident_id)


def _member_scope_changed(*, incident_id: int) -> bool:
    membership = EventMember.objects.select_related("event").filter(incident_id=incident_id).first()
    if membership is None:
        return False  # its event was rebuilt meanwhile (a replay)
    event = membership.event
    members = Incident.objects.filter(event_membership__event=event).select_related("service")
    event.scope = combined_scope([_onset(i, now=True) for i in members])
    event.save(update_fields=["scope", "updated_at"])
    return True


def _after_commit(announce: Announce | None, event_id: int, kind: str, incident_id: int | None) -> None:
    if announce is not None:
        transaction.on_commit(lambda: announce(event_id, kind, incident_id))


def regroup(*, start: datetime, end: datetime) -> list[WidespreadEvent]:
    """The replay's grouping over [start, end): events started there are rebuilt, in detection order.

    Historical events: nothing is announced, like the replay's incidents.
    """
    with transaction.atomic():
        WidespreadEvent.objects.filter(started_at__gte=start, started_at__lt=end).delete()
        incidents = list(
            Incident.objects.filter(service__active=True, started_at__gte=start, started_at__lt=end)
            .order_by("detected_at", "id")
            .values_list("id", "detected_at")
        )
        for pk, detected_at in incidents:
            group(incident_id=pk, as_of=detected_at)
        events = WidespreadEvent.objects.filter(started_at__gte=start, started_at__lt=end)
        for event in events.annotate(open_members=Count("members", filter=Q(members__incident__ended_at=None))):
            if not event.open_members:
                last = event.members.order_by("-incident__ended_at").values_list("incident_id", flat=True).first()
                member_resolved(incident_id=last)
        return list(WidespreadEvent.objects.filter(started_at__gte=start, started_at__lt=end).order_by("started_at"))
