"""Generated incident sets for widespread events: a fleet with providers, quiet weeks, provider outages.

Incidents, not reports: the grouping (analytics.core.grouping) reads only the
incidents' onsets, ends and scope, so its tests and the demo start from these.
Pure numpy/pandas, seeded; each incident is a dict with service (index into
the fleet), started_at, detected_at, ended_at, regions (empty: worldwide), codes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REGIONS = ["NA", "EU", "AS", "SA", "OC"]
# Shares of services running on each (a service may run on two): roughly what public surveys show.
PROVIDERS = {"aws:us-east-1": 0.25, "aws:eu-west-1": 0.10, "cloudflare": 0.30, "gcp": 0.10, "azure": 0.12}


def fleet(n: int, *, seed: int = 0) -> list[list[str]]:
    """The providers of `n` services."""
    rng = np.random.default_rng(seed)
    return [sorted(p for p, share in PROVIDERS.items() if rng.random() < share) for _ in range(n)]


def _incident(rng: np.random.Generator, service: int, onset: pd.Timestamp, *, regions=None, minutes=None) -> dict:
    if regions is None:
        regions = [] if rng.random() < 0.5 else sorted(rng.choice(REGIONS, size=rng.integers(1, 3), replace=False))
    minutes = minutes if minutes is not None else int(rng.integers(20, 150))
    return {
        "service": service,
        "started_at": onset.floor("1min"),
        # Detected a few minutes after the estimated onset, like the detector's 5-minute window.
        "detected_at": (onset + pd.Timedelta(minutes=int(rng.integers(2, 7)))).floor("1min"),
        "ended_at": (onset + pd.Timedelta(minutes=minutes)).floor("1min"),
        "regions": list(regions),
        "codes": [str(rng.choice(["500", "502", "503", "timeout", "login"]))],
    }


def quiet_incidents(
    *, services: int, start: pd.Timestamp, days: float, seed: int = 0, per_week: tuple[float, float] = (0.5, 5.0)
) -> list[dict]:
    """Independent incidents: each service its own Poisson rate, drawn log-uniform in `per_week`."""
    rng = np.random.default_rng(seed)
    minutes = days * 24 * 60
    out = []
    for service in range(services):
        rate = float(np.exp(rng.uniform(*np.log(per_week)))) / (7 * 24 * 60)
        free_from = start
        for offset in np.sort(rng.uniform(0, minutes, size=rng.poisson(rate * minutes))):
            onset = start + pd.Timedelta(minutes=float(offset))
            if onset < free_from:
                continue  # one incident at a time; a relapse within the merge gap is the same incident
            out.append(_incident(rng, service, onset))
            free_from = out[-1]["ended_at"] + pd.Timedelta(hours=3)
    return sorted(out, key=lambda i: (i["detected_at"], i["service"]))


def provider_outage(
    *, fleet_providers: list[list[str]], provider: str, onset: pd.Timestamp, hit: int, spread_minutes: float = 10,
    region: str | None = None, seed: int = 0,
) -> list[dict]:  # fmt: skip
    """`hit` services on `provider` (all, if fewer) fail within `spread_minutes` of `onset`, for about an hour."""
    rng = np.random.default_rng(seed)
    on = [i for i, providers in enumerate(fleet_providers) if provider in providers]
    chosen = sorted(rng.choice(on, size=min(hit, len(on)), replace=False).tolist())
    regions = [region] if region else []
    return [
        _incident(rng, s, onset + pd.Timedelta(minutes=float(rng.uniform(0, spread_minutes))),
                  regions=regions, minutes=int(rng.integers(50, 90)))
        for s in chosen
    ]  # fmt: skip
