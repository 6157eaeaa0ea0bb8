"""9. Widespread events: what grouping adds to the detection tick, and how often it forms false events.

Cost. 1,000 services with DAYS of ordinary reports (bench.tick's loader), on
the demo's providers (demo.widespread.fleet). The same warm tick is timed with
the grouping as it runs live and with it switched off (analytics.incidents'
hooks patched to no-ops), alternating, median of REPEAT:

- "quiet": no incident opens or resolves, the common minute: grouping never runs;
- "outage": OUTAGE services (on aws:us-east-1) get a surge over the 5 minutes
  up to the minute the tick evaluates, so their incidents open in that tick and
  each is grouped after its commit (the event forms, the rest join it);
  incidents and events are deleted between repeats. Every run counts the
  incidents it opened and the events formed: both arms must open the same
  incidents (else the ratio compares different work), and only the grouping
  arm forms the event.

Reference: the same tick without grouping in the same run (target <= 1.05x); and, steadier on a
loaded machine, the same grouping run less the seconds spent inside the hooks (target <= 1.05x).

False events. QUIET_SERVICES services with independent ordinary incidents
(demo.widespread.quiet_incidents: each service 0.5-5 a week, half of them
regional) over QUIET_WEEKS weeks, for several seeds; the first two weeks are
the rates' history, the rest is grouped by the replay's `regroup` (the live
tick's rule, tests/test_events.py checks they agree). Every event there is a
false one: the figure is events per service-week grouped.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from datetime import timedelta
from unittest import mock

import pandas as pd
from django.utils import timezone
from scipy import stats

from analytics.bucketing import rebuild_buckets
from analytics.models import Incident, WidespreadEvent
from analytics.widespread import regroup
from demo.widespread import fleet, quiet_incidents
from reports.models import Feature, Report, Service
from tests.support.widespread import load_resolved, make_fleet

from .lib.context import Context
from .lib.results import Figure, figure
from .tick import _load, _rewind, _services, _tick_in_process

SERVICES = 1000
OUTAGE = 30
REPEAT = 5
QUIET_SERVICES, QUIET_WEEKS, QUIET_SEEDS = 1000, 6, (11, 12, 13)
QUIET_T0 = pd.Timestamp("2024-01-01", tz="UTC")  # far from the tick's data: its incidents never count here


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


def _providers(service_ids: list[int], outage: list[int]) -> None:
    """The demo's provider shares, and aws:us-east-1 for the outage's services: attribution runs as live."""
    spread = fleet(len(service_ids), seed=9)
    rows = list(Service.objects.filter(id__in=service_ids).order_by("id"))
    for service, providers in zip(rows, spread, strict=True):
        service.providers = sorted(set(providers) | {"aws:us-east-1"}) if service.id in outage else providers
    Service.objects.bulk_update(rows, ["providers"], batch_size=1000)


# What analytics.incidents runs after commit: alone, or a tick batch's together (group_all, which calls
# analytics.widespread's own functions, not these names: no second count).
HOOKS = ("group", "member_resolved", "member_scope_changed", "group_all")


def _timed(service_ids, *, now, grouping: bool) -> tuple[float, int, int, float]:
    """(seconds, incidents the tick opened, events, seconds inside the grouping hooks) of one tick."""
    _rewind(service_ids, now=now)
    since = now - timedelta(minutes=10)
    Incident.objects.filter(service_id__in=service_ids, detected_at__gte=since).delete()
    WidespreadEvent.objects.all().delete()
    inside = [0.0]

    def clocked(hook):
        def run(**kwargs):
            started = time.perf_counter()
            try:
                return hook(**kwargs)
            finally:
                inside[0] += time.perf_counter() - started

        return run

    import analytics.incidents as hooks  # noqa: PLC0415 (patched here only)

    with contextlib.ExitStack() as patches:
        for name in HOOKS:
            replacement = clocked(getattr(hooks, name)) if grouping else mock.Mock()
            patches.enter_context(mock.patch.object(hooks, name, replacement))
        seconds = _tick_in_process(service_ids, now=now)
    opened = Incident.objects.filter(service_id__in=service_ids, detected_at__gte=since).count()
    return seconds, opened, WidespreadEvent.objects.count(), inside[0]


def _cost(ctx: Context) -> list[Figure]:
    n = 100 if ctx.smoke else SERVICES
    outage = min(OUTAGE, n // 4)
    now = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=1)
    service_ids = _services(n)[:n]
    _providers(service_ids, service_ids[:outage])
    _load(ctx, service_ids, now=now + timedelta(minutes=5))
    tick_at = now + timedelta(seconds=5)
    _timed(service_ids, now=tick_at, grouping=True)  # fits and stores the profiles: every later tick is warm
    figures = []
    for case in ("quiet", "outage"):
        if case == "outage":
            _surge(service_ids[:outage], minute=now - timedelta(minutes=1))
        runs = {True: [], False: []}
        for _ in range(REPEAT):
            for grouping in (False, True):
                runs[grouping].append(_timed(service_ids, now=tick_at, grouping=grouping))
        for grouping, got in runs.items():
            arm = "with" if grouping else "without"
            said = [f"{s:.2f} s ({g:.2f} in hooks) / {o} opened / {e} event(s)" for s, o, e, g in got]
            print(f"grouping: {case} tick {arm} grouping: " + ", ".join(said), flush=True)
        opened = {o for got in runs.values() for _, o, _, _ in got}
        events = {g: {e for _, _, e, _ in got} for g, got in runs.items()}
        if case == "quiet":
            assert opened == {0} and events == {True: {0}, False: {0}}, (opened, events)
        else:
            # Every surged service opens in every run of both arms; only the grouping forms the one event.
            assert opened == {outage}, f"the surge opened {opened} incidents per run, not {outage}"
            assert events == {True: {1}, False: {0}}, events
        with_, without = (statistics.median(s for s, _, _, _ in runs[g]) for g in (True, False))
        figures.append(figure(f"grouping.services_{n}.{case}_tick_s", with_, "s", reference=without, target="<= 1.05x"))
        # The fastest of each arm: what the code costs when the shared machine lets it run.
        fast_with, fast_without = (min(s for s, _, _, _ in runs[g]) for g in (True, False))
        figures.append(figure(f"grouping.services_{n}.{case}_tick_fastest_s", fast_with, "s", reference=fast_without))
        # Within each grouping run, the same tick less the time spent in the hooks: the load of the shared
        # machine moves both alike, so this is the steadier figure of what grouping adds.
        less = statistics.median(s - g for s, _, _, g in runs[True])
        name = f"grouping.services_{n}.{case}_tick_vs_less_hooks_s"
        figures.append(figure(name, with_, "s", reference=less, target="<= 1.05x"))
        hooks_s = statistics.median(g for *_, g in runs[True])
        figures.append(figure(f"grouping.services_{n}.{case}_hooks_s", hooks_s, "s"))
        figures.append(figure(f"grouping.services_{n}.{case}_incidents_opened_per_tick", opened.pop(), "incidents"))
        if case == "outage":
            members = Incident.objects.filter(event_membership__isnull=False).count()
            figures.append(figure(f"grouping.services_{n}.outage_events", max(events[True]), "events", reference=1))
            figures.append(figure(f"grouping.services_{n}.outage_members", members, "incidents", reference=outage))
    return figures


def _false_events(ctx: Context) -> list[Figure]:
    """Events formed on quiet weeks, per service-week grouped, over several seeds (every one is false)."""
    n, weeks, seeds = (200, 4, QUIET_SEEDS[:1]) if ctx.smoke else (QUIET_SERVICES, QUIET_WEEKS, QUIET_SEEDS)
    others = list(Service.objects.filter(active=True).values_list("id", flat=True))
    Service.objects.filter(id__in=others).update(active=False)  # the rates count every active service
    services = make_fleet(fleet(n, seed=1))
    history_end = QUIET_T0 + pd.Timedelta(days=14)
    end = QUIET_T0 + pd.Timedelta(weeks=weeks)
    total_events = total_incidents = 0
    try:
        for seed in seeds:
            Incident.objects.filter(service__in=services).delete()
            items = quiet_incidents(services=n, start=QUIET_T0, days=weeks * 7, seed=seed)
            load_resolved(services, items)
            started = time.perf_counter()
            events = regroup(start=history_end.to_pydatetime(), end=end.to_pydatetime())
            grouped = sum(1 for i in items if i["started_at"] >= history_end)
            print(f"grouping: quiet seed {seed}: {n} services, {len(items)} incidents ({grouped} grouped over "
                  f"{weeks - 2} weeks), {len(events)} event(s), regroup {time.perf_counter() - started:.0f} s",
                  flush=True)  # fmt: skip
            for e in events:
                print(f"  false event {e.started_at:%Y-%m-%d %H:%M}: {e.members.count()} services, "
                      f"chance {e.chance:.2g}")  # fmt: skip
            total_events += len(events)
            total_incidents += grouped
    finally:
        Incident.objects.filter(service__in=services).delete()
        WidespreadEvent.objects.filter(started_at__lt=end).delete()
        Service.objects.filter(id__in=[s.id for s in services]).delete()
        Service.objects.filter(id__in=others).update(active=True)
    service_weeks = n * (weeks - 2) * len(seeds)
    # The one-sided 95% upper bound of a Poisson count (3.0 when none was seen).
    bound = float(stats.chi2.ppf(0.95, 2 * (total_events + 1))) / 2
    per = 1000 / service_weeks
    rate, upper = total_events / service_weeks, bound / service_weeks
    print(f"grouping: {total_events} false event(s) in {service_weeks:,} service-weeks of quiet data: "
          f"{rate:.2g} per service-week (95% upper bound {upper:.2g})")  # fmt: skip
    return [
        figure("grouping.quiet.service_weeks", service_weeks, "service-weeks"),
        figure("grouping.quiet.incidents_grouped", total_incidents, "incidents"),
        figure("grouping.quiet.false_events", total_events, "events"),
        figure("grouping.quiet.false_events_per_1000_service_weeks", total_events * per, "events"),
        figure("grouping.quiet.false_events_per_1000_service_weeks_upper_95", bound * per, "events"),
    ]


def run(ctx: Context) -> list[Figure]:
    return _cost(ctx) + _false_events(ctx)
