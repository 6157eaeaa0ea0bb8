"""Writes of the official status: set a source, claim the due ones, poll one, store what it said."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from analytics.models import Incident
from common.outbound import TargetRefused, parse_url
from reports.models import Service

from . import fetch, parsing
from .events import publish_official_change
from .models import OfficialIncident, Source, StatusChange

log = logging.getLogger(__name__)


def source_set(*, service: Service, kind: str, url: str) -> Source:
    """Create or change a service's official source (admin, import); polled at the next round."""
    if kind not in Source.Kind.values:
        raise ValueError(f"official_kind {kind[:40]!r}: one of {', '.join(Source.Kind.values)}")
    if kind != Source.Kind.NONE:
        try:
            parse_url(url)
        except TargetRefused as exc:
            raise ValueError(f"official_url: {exc}") from None
    source, _ = Source.objects.update_or_create(
        service=service,
        defaults={"kind": kind, "url": url, "next_poll_at": None, "consecutive_failures": 0, "validators": {}},
    )
    return source


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def claim_due(*, now: datetime, limit: int = 200) -> list[int]:
    """The sources to poll now, each claimed by a conditional UPDATE (two beats or workers never poll twice).

    At most TREMOR_OFFICIAL_PER_HOST_PER_MINUTE requests per host and minute: a host with
    many services on it (status pages on one provider) sees them spread over several minutes.
    """
    per_host = settings.TREMOR_OFFICIAL_PER_HOST_PER_MINUTE
    recent = Counter(
        _host(url)
        for url in Source.objects.filter(last_polled_at__gt=now - timedelta(minutes=1)).values_list("url", flat=True)
    )
    due = (
        Source.objects.exclude(kind=Source.Kind.NONE)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now), service__active=True)
        .order_by(F("next_poll_at").asc(nulls_first=True))
        .values_list("pk", "url", "next_poll_at")[:limit]
    )
    lease = timedelta(seconds=settings.TREMOR_OFFICIAL_TIMEOUT_SECONDS * 4 + 60)
    claimed = []
    for pk, url, next_poll_at in due:
        host = _host(url)
        if recent[host] >= per_host:
            continue
        if Source.objects.filter(pk=pk, next_poll_at=next_poll_at).update(next_poll_at=now + lease, last_polled_at=now):
            recent[host] += 1
            claimed.append(pk)
    return claimed


def backoff_seconds(failures: int) -> int:
    """The wait after `failures` failures in a row: the poll interval, doubled per failure, capped."""
    interval = settings.TREMOR_OFFICIAL_POLL_SECONDS
    if failures <= 0:
        return interval
    return min(interval * 2 ** min(failures, 16), settings.TREMOR_OFFICIAL_BACKOFF_MAX_SECONDS)


def _get(source: Source, url: str, validators: dict) -> bytes | None:
    """The body, or None when unchanged (304); remembers the answer's validators."""
    answer = fetch.get(
        url,
        validators=source.validators.get(url, {}),
        timeout=settings.TREMOR_OFFICIAL_TIMEOUT_SECONDS,
        max_bytes=settings.TREMOR_OFFICIAL_MAX_BYTES,
        allow_private=settings.TREMOR_OFFICIAL_ALLOW_PRIVATE_TARGETS,
    )
    validators[url] = {k: v for k, v in (("etag", answer.etag), ("last_modified", answer.last_modified)) if v}
    return None if answer.status == 304 else answer.body


def _read(source: Source, now: datetime) -> tuple[list[parsing.Snapshot], dict]:
    validators: dict = {}
    if source.kind == Source.Kind.STATUSPAGE:
        base = source.url.rstrip("/")
        snapshots = []
        for path, parse in (("/api/v2/summary.json", parsing.statuspage_summary),
                            ("/api/v2/incidents.json", parsing.statuspage_incidents)):  # fmt: skip
            body = _get(source, base + path, validators)
            if body is not None:
                snapshots.append(parse(body))
        return snapshots, validators
    body = _get(source, source.url, validators)
    return ([] if body is None else [parsing.feed(body, now=now)]), validators


def poll(*, source_id: int, now: datetime | None = None) -> bool:
    """Poll one claimed source and store what it says. Never raises over what the source answered.

    True on success; on failure the source waits backoff_seconds(failures) before the next try.
    """
    now = now or timezone.now()
    source = Source.objects.select_related("service").filter(pk=source_id).first()
    if source is None or source.kind == Source.Kind.NONE:
        return False
    try:
        snapshots, validators = _read(source, now)
    except (fetch.FetchFailed, parsing.ParseError) as exc:
        failures = source.consecutive_failures + 1
        Source.objects.filter(pk=source.pk).update(
            consecutive_failures=failures,
            last_error=str(exc)[:300],
            next_poll_at=now + timedelta(seconds=backoff_seconds(failures)),
        )
        log.warning("official %s: poll failed (%s), %d in a row", source.service.slug, exc, failures)
        return False
    record(source=source, snapshots=snapshots, now=now)
    Source.objects.filter(pk=source.pk).update(
        validators={**source.validators, **validators},
        consecutive_failures=0,
        last_error="",
        last_success_at=now,
        next_poll_at=now + timedelta(seconds=backoff_seconds(0)),
    )
    return True


def record(*, source: Source, snapshots: list[parsing.Snapshot], now: datetime) -> StatusChange | None:
    """Store the incidents (once each, updated as they move on) and a status change if there is one."""
    change = None
    with transaction.atomic():
        for snapshot in snapshots:
            for item in snapshot.incidents:
                _incident_upsert(source=source, item=item, now=now)
            if snapshot.status is not None and snapshot.status != source.status:
                change = _status_change(source=source, snapshot=snapshot, now=now)
    if change is not None and change.incident_id is not None:
        publish_official_change(incident_id=change.incident_id, change_id=change.pk)
    return change


def _incident_upsert(*, source: Source, item: parsing.Published, now: datetime) -> None:
    OfficialIncident.objects.update_or_create(
        source=source,
        external_id=item.external_id,
        defaults={"title": item.title, "state": item.state, "impact": item.impact, "url": item.url,
                  "acknowledged_at": item.acknowledged_at, "resolved_at": item.resolved_at},
        create_defaults={"title": item.title, "state": item.state, "impact": item.impact, "url": item.url,
                         "acknowledged_at": item.acknowledged_at, "resolved_at": item.resolved_at, "seen_at": now},
    )  # fmt: skip


def _status_change(*, source: Source, snapshot: parsing.Snapshot, now: datetime) -> StatusChange:
    # The page's own time when it is plausible (not in the future, not before the last change).
    changed_at = snapshot.changed_at
    if changed_at is None or changed_at > now or (source.status_since and changed_at < source.status_since):
        changed_at = now
    ongoing = Incident.objects.filter(service_id=source.service_id, status=Incident.Status.ONGOING).first()
    change = StatusChange.objects.create(
        source=source, status=snapshot.status, previous=source.status, changed_at=changed_at, seen_at=now,
        incident=ongoing,
    )  # fmt: skip
    source.status, source.status_since = snapshot.status, changed_at
    Source.objects.filter(pk=source.pk).update(status=snapshot.status, status_since=changed_at)
    return change
