"""Demo fleet for `./tremor up`: about 40 services on a few providers, and one widespread outage now.

Fourteen of the services run on AWS us-east-1; about 45 minutes before `now`
their reports surge together (503s, North America and Europe). Their incidents
are taken from the generator (demo.widespread: onsets within 10 minutes, as
the detector would estimate them) rather than detected over two weeks of
history for 40 services, which would make `./tremor up` take minutes; the
event itself is grouped by the replay's own `regroup`, the same rule as the
live tick. The live tick then carries the incidents on: while the reports
stay high they stay open, and the event ends when the last one resolves.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from analytics.bucketing import bucket_range
from analytics.models import Incident
from analytics.widespread import regroup
from reports.imports import import_rows
from reports.models import Service
from reports.services import service_create

from .background import CSV_COLUMNS, background, concat, utc

NAMES = [
    "Parcelly", "Streamly", "Chatterbox", "Ledgerline", "Roomly", "Tickety", "Fotobox", "Mapwise",
    "Jobboard", "Notewell", "Podhub", "Cartwheel", "Fitloop", "Bankly", "Travelnest", "Gamezone",
    "Docsy", "Meetly", "Shopfront", "Mailbird", "Cloudnote", "Playlistr", "Ridealong", "Homebase",
    "Learnly", "Petpal", "Foodrun", "Newsdesk", "Codeshed", "Filevault", "Calendo", "Quizzy",
    "Weatherly", "Paywise", "Datebook", "Artspace", "Voicemail+", "Sportsfeed", "Recipebox", "Taskly",
]  # fmt: skip
FEATURES = ["login", "app", "payments", "website"]
HIT = 14  # the services on aws:us-east-1, all of which fail
OUTAGE_BEFORE_NOW = timedelta(minutes=45)


def providers_of(index: int) -> list[str]:
    """AWS us-east-1 for the first HIT services; the rest spread over the other providers."""
    if index < HIT:
        return ["aws:us-east-1"] + (["cloudflare"] if index % 3 == 0 else [])
    return [["cloudflare"], ["gcp"], ["azure"], ["aws:eu-west-1", "cloudflare"], ["fastly"]][index % 5]


def _reports(slug: str, index: int, *, now: pd.Timestamp, hit: bool, rng: np.random.Generator) -> pd.DataFrame:
    bg = background(service=slug, start=now - pd.Timedelta(days=2), end=now, daily_reports=300.0, seed=index)
    bg["feature"] = rng.choice(FEATURES, size=len(bg))  # the background speaks of Tesla's features
    frames = [bg]
    if hit:
        onset = now - pd.Timedelta(OUTAGE_BEFORE_NOW) + pd.Timedelta(minutes=float(rng.uniform(0, 8)))
        minutes = pd.date_range(onset.ceil("1min"), now, freq="1min", inclusive="left")
        n = rng.poisson(6.0, size=len(minutes))
        at = minutes.repeat(n) + pd.to_timedelta(rng.integers(0, 60, size=int(n.sum())), unit="s")
        countries = rng.choice(["US", "CA", "GB", "DE", "FR"], size=len(at), p=[0.5, 0.1, 0.15, 0.15, 0.1])
        surge = pd.DataFrame({"observed_at": at, "service": slug, "country": countries,
                              "region": "", "code": "503", "feature": "login", "surge": True})  # fmt: skip
        frames.append(surge)
    return concat(*frames)


def load_fleet(*, now: datetime, progress: Callable[[str], None] = print) -> int:
    """The 40 services, two light days of reports each, the ongoing outage and its event; returns reports stored."""
    if Service.objects.filter(slug="parcelly").exists():
        progress("demo: the fleet exists, keeping it")
        return 0
    end, rng = utc(now).floor("1min"), np.random.default_rng(17)
    frames = []
    for index, name in enumerate(NAMES):
        slug = name.lower().replace("+", "-plus")
        service_create(slug=slug, name=name, features=FEATURES)
        Service.objects.filter(slug=slug).update(providers=providers_of(index))
        frames.append(_reports(slug, index, now=end, hit=index < HIT, rng=rng))
    frame = concat(*frames)
    frame["surge"] = frame["surge"].fillna(False).astype(bool) if "surge" in frame else False
    result = import_rows(frame[CSV_COLUMNS].to_dict("records"))
    bucket_range(start=result.start, end=result.end, services=result.services)
    _incidents(end, frame)
    events = regroup(start=end - timedelta(days=1), end=end)
    progress(f"demo: {len(NAMES)} services, {result.rows:,} reports, {len(events)} widespread event(s)")
    return result.rows


def _incidents(end: pd.Timestamp, frame: pd.DataFrame) -> None:
    """The hit services' incidents, ongoing: onset at their first surge report, detected 4 minutes later."""
    surge = frame[frame["surge"]].groupby("service")["observed_at"].min()
    rows = []
    for slug, first in surge.items():
        onset = first.floor("1min").to_pydatetime()
        rows.append(Incident(
            service=Service.objects.get(slug=slug), status="ongoing", level=2, started_at=onset,
            detected_at=onset + timedelta(minutes=4), peak_at=onset + timedelta(minutes=10),
            peak_reports_per_minute=9, baseline_at_peak=0.4, excess_reports=200,
            scope={"regions": ["NA", "EU"], "countries": ["US", "GB", "DE"], "codes": ["503"], "features": ["login"]},
            scope_shares={"codes": {"503": 100.0}}, is_regional=False,
            phases=[{"started_at": onset.isoformat(), "ended_at": None}],
        ))  # fmt: skip
    Incident.objects.bulk_create(rows)
