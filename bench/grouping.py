"""9. Widespread events: what grouping adds to the detection tick (analytics.widespread).

1,000 services with DAYS of ordinary reports (bench.tick's loader). The same
warm tick is timed with the grouping as it runs live and with it switched off
(analytics.incidents' hooks patched to no-ops), alternating, median of REPEAT:

- "quiet": no incident opens or resolves, the common minute: grouping never runs;
- "outage": OUTAGE services get a surge in the minute the tick evaluates, so
  their incidents open in that tick and each is grouped after its commit (the
  event forms and the rest join it); incidents and events are deleted between
  repeats.

Reference: the same tick without grouping in the same run (target <= 1.05x).
"""

from __future__ import annotations

import statistics
from datetime import timedelta
from unittest import mock

from django.utils import timezone

from analytics.bucketing import rebuild_buckets
from analytics.models import Incident, WidespreadEvent
from reports.models import Feature, Report

from .lib.context import Context
from .lib.results import Figure, figure
from .tick import _load, _rewind, _services, _tick_in_process

SERVICES = 1000
OUTAGE = 30
REPEAT = 3


def _surge(service_ids: list[int], *, minute) -> None:
    """40 reports a minute over the 5 minutes up to `minute`: the detector's short window sees the outage
    at `minute`, so each service's incident opens in the tick that evaluates it."""
    features = dict(Feature.objects.filter(service_id__in=service_ids, slug="login").values_list("service_id", "id"))
    reports = []
    for s in service_ids:
        for k in range(200):
            at = minute - timedelta(minutes=4) + timedelta(seconds=k * 1.5)
            reports.append(Report(service_id=s, feature_id=features[s], code="503", country="US", region="NA",
                                  observed_at=at, received_at=at, source="api"))  # fmt: skip
    Report.objects.bulk_create(reports)
    rebuild_buckets(start=minute - timedelta(minutes=5), end=minute + timedelta(minutes=1))


def _timed(service_ids, *, now, grouping: bool) -> float:
    _rewind(service_ids, now=now)
    Incident.objects.filter(service_id__in=service_ids, detected_at__gte=now - timedelta(minutes=5)).delete()
    WidespreadEvent.objects.all().delete()
    if grouping:
        return _tick_in_process(service_ids, now=now)
    with mock.patch("analytics.incidents.group"), mock.patch("analytics.incidents.member_resolved"):
        return _tick_in_process(service_ids, now=now)


def run(ctx: Context) -> list[Figure]:
    n = 100 if ctx.smoke else SERVICES
    now = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1)
    service_ids = _services(n)
    _load(ctx, service_ids, now=now + timedelta(minutes=5))
    tick_at = now + timedelta(seconds=5)
    _timed(service_ids, now=tick_at, grouping=True)  # fits and stores the profiles: every later tick is warm
    figures = []
    for case in ("quiet", "outage"):
        if case == "outage":
            _surge(service_ids[:OUTAGE], minute=now - timedelta(minutes=1))
        runs = {True: [], False: []}
        for _ in range(REPEAT):
            for grouping in (False, True):
                runs[grouping].append(_timed(service_ids, now=tick_at, grouping=grouping))
        events = WidespreadEvent.objects.count()
        members = Incident.objects.filter(event_membership__isnull=False).count()
        with_, without = statistics.median(runs[True]), statistics.median(runs[False])
        figures.append(figure(f"grouping.services_{n}.{case}_tick_s", with_, "s", reference=without, target="<= 1.05x"))
        if case == "outage":
            opened = Incident.objects.filter(service_id__in=service_ids, detected_at__gte=now - timedelta(minutes=5))
            figures.append(figure(f"grouping.services_{n}.outage_incidents_opened", opened.count(), "incidents"))
            figures.append(figure(f"grouping.services_{n}.outage_events", events, "events", reference=1))
            figures.append(figure(f"grouping.services_{n}.outage_members", members, "incidents"))
    return figures
