"""Generated incident sets (demo.widespread) in the database, grouped as the live tick or the replay would."""

from datetime import timedelta

import numpy as np
import pandas as pd
from django.test import TestCase

from analytics import widespread
from analytics.core.lifecycle import recovery_quiet
from analytics.incidents import lifecycle_config
from analytics.models import Incident, WidespreadEvent
from reports.models import Service


def make_fleet(providers: list[list[str]]) -> list[Service]:
    return Service.objects.bulk_create(
        [Service(slug=f"svc-{i:04d}", name=f"Service {i}", providers=p) for i, p in enumerate(providers)]
    )


def _row(services: list[Service], item: dict, *, resolved: bool) -> Incident:
    start = item["started_at"].to_pydatetime()
    return Incident(
        service=services[item["service"]], status="resolved" if resolved else "ongoing", level=0 if resolved else 2,
        started_at=start, detected_at=item["detected_at"].to_pydatetime(), peak_at=start,
        ended_at=item["ended_at"].to_pydatetime() if resolved else None,
        peak_reports_per_minute=10, baseline_at_peak=1, excess_reports=100,
        scope={"regions": item["regions"], "codes": item["codes"]}, is_regional=bool(item["regions"]),
    )  # fmt: skip


def resolved_at(item: dict) -> pd.Timestamp:
    """When the lifecycle resolves it: its first recovered minute plus the rest of the recovery."""
    quiet = recovery_quiet(lifecycle_config(), item["started_at"], item["ended_at"])
    return item["ended_at"] + quiet - pd.Timedelta(minutes=1)


def run_live(
    services: list[Service], items: list[dict], *, until: pd.Timestamp | None = None, publish=None
) -> list[str]:
    """Open and resolve the incidents in time order as the tick would, grouping each; returns the announcements.

    `publish`: also hand each announcement on (publish_widespread_event, for the webhooks).
    """
    said: list[str] = []

    def announce(event_id, kind, incident_id):
        said.append(kind)
        if publish is not None:
            publish(event_id, kind, incident_id)

    actions = [(i["detected_at"], 1, n) for n, i in enumerate(items)]
    actions += [(resolved_at(i), 0, n) for n, i in enumerate(items)]  # a resolution first at the same minute
    rows: dict[int, Incident] = {}
    for at, opens, n in sorted(actions):
        if until is not None and at > until:
            break
        # The announcements go out on commit, which a test's transaction never reaches by itself.
        with TestCase.captureOnCommitCallbacks(execute=True):
            if opens:
                rows[n] = _row(services, items[n], resolved=False)
                rows[n].save()
                widespread.group(incident_id=rows[n].pk, announce=announce)
            else:
                Incident.objects.filter(pk=rows[n].pk).update(status="resolved", ended_at=items[n]["ended_at"])
                widespread.member_resolved(incident_id=rows[n].pk, announce=announce)
    return said


def load_resolved(services: list[Service], items: list[dict]) -> None:
    """The incidents as a replay stores them: all at once, each with its end."""
    Incident.objects.bulk_create([_row(services, i, resolved=True) for i in items])


def events() -> list[dict]:
    """Every event as comparable data: status, times, members (slug, joined), scope, provider."""
    out = []
    for e in WidespreadEvent.objects.order_by("started_at").prefetch_related("members__incident__service"):
        members = [(m.incident.service.slug, m.joined_at) for m in e.members.all()]
        out.append({
            "status": e.status, "started_at": e.started_at, "detected_at": e.detected_at, "ended_at": e.ended_at,
            "members": sorted(members), "scope": e.scope, "provider": e.provider,
            "provider_members": e.provider_members, "chance": round(e.chance, 12), "rate": e.rate_per_minute,
        })  # fmt: skip
    return out


def later(at: pd.Timestamp, minutes: float) -> pd.Timestamp:
    return at + timedelta(minutes=minutes)


def outage_reports(slugs: list[str], surges: dict[str, list[tuple[float, float]]], *, onset: pd.Timestamp,
                   days: float = 2, per_minute: float = 6.0, seed: int = 0) -> pd.DataFrame:  # fmt: skip
    """Reports, not incidents: `days` of background for every service up to `onset` + 3 h, and for each
    service in `surges` 503s at `per_minute` over its (from, to[, countries]) minutes after `onset` (two spans:
    a relapse, or a failure that spreads to other countries)."""
    from demo.background import background, concat  # noqa: PLC0415 (test support: only its callers need it)

    rng = np.random.default_rng(seed)
    end = onset + pd.Timedelta(hours=3)
    frames = [background(service=s, start=onset - pd.Timedelta(days=days), end=end, daily_reports=300.0, seed=seed + n)
              for n, s in enumerate(slugs)]  # fmt: skip
    for slug, spans in surges.items():
        for first, last, *where in spans:
            minutes = pd.date_range(later(onset, first), later(onset, last), freq="1min", inclusive="left")
            n = rng.poisson(per_minute, size=len(minutes))
            at = minutes.repeat(n) + pd.to_timedelta(rng.integers(0, 60, size=int(n.sum())), unit="s")
            countries = rng.choice(where[0] if where else ["US", "CA", "GB", "DE", "FR"], size=len(at))
            frames.append(pd.DataFrame({"observed_at": at, "service": slug, "country": countries,
                                        "code": "503", "feature": "login"}))  # fmt: skip
    return concat(*frames)
