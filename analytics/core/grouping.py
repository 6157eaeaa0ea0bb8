"""Widespread events: incidents of different services that start together, as pure functions.

When a cloud region, a CDN or a DNS provider fails, many services' incidents
open within minutes. With hundreds of services some incidents also coincide by
luck, so an event is formed only when more incidents start together than the
services' own incident rates make likely:

- the onsets of independent incidents are a Poisson process whose rate is the
  sum of the services' incident rates (`pooled_rate`);
- `k` onsets within `window_minutes` is judged with the scan statistic over a
  whole `horizon_hours` of windows (Alm's approximation), not one window's
  Poisson tail: somewhere in a day of sliding windows, luck finds clusters
  that any single window would call rare (the multiple testing over windows);
- an event forms when that chance is below `alpha` and it holds at least
  `min_services` services; the members must overlap in scope: one region they
  all cover (or worldwide incidents, which overlap every region);
- a later service joins while the event is ongoing if its onset is within the
  window of a member's onset and its regions overlap the event's (chaining, so
  a failure that spreads over an hour is one event);
- the event ends when its last member resolves.

Provider attribution: a provider is named as the likely common cause only when
the members share it far more than its share of all services predicts
(binomial tail, Bonferroni over the providers the members name).

Knobs (GroupingConfig), and why:
- window 10 minutes: onset estimates of one provider failure spread over a few
  minutes (detection windows of 5 minutes, report lag of each service's users);
- horizon 24 h and alpha 1e-3: a false event about once in three years of
  quiet operation if the rates are right;
- at least 3 services: two services are a coincidence to mention, not an event;
- provider alpha 1e-3: naming a cause wrongly is worse than not naming one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class GroupingConfig:
    window_minutes: int = 10
    horizon_hours: int = 24
    alpha: float = 1e-3
    min_services: int = 3
    provider_alpha: float = 1e-3
    # Each service's rate is its incidents over this history plus one, so a
    # service with no incident yet is not taken as one that never fails.
    history_days: int = 14


DEFAULT_GROUPING = GroupingConfig()


@dataclass(frozen=True)
class Onset:
    """One incident as the grouping sees it. Empty `regions`: worldwide."""

    incident_id: int
    service_id: int
    started_at: pd.Timestamp
    regions: frozenset[str] = frozenset()
    codes: frozenset[str] = frozenset()
    providers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class EventView:
    """An ongoing event: its members' onsets and combined regions (empty: worldwide)."""

    event_id: int
    first_onset: pd.Timestamp
    last_onset: pd.Timestamp
    regions: frozenset[str]


@dataclass(frozen=True)
class Formed:
    members: tuple[Onset, ...]
    expected: float  # onsets expected by chance in the window
    chance: float  # chance of a cluster this large somewhere in a horizon of quiet operation


@dataclass(frozen=True)
class Joined:
    event_id: int


@dataclass(frozen=True)
class Attribution:
    provider: str
    members: int  # how many of the event's services run on it
    services: int  # the event's services
    share: float  # its share of all services
    chance: float  # Bonferroni-corrected binomial tail


def pooled_rate(*, incidents: int, services: int, config: GroupingConfig = DEFAULT_GROUPING) -> float:
    """Incident onsets per minute of all services together, from `incidents` in the history."""
    return (incidents + services) / (config.history_days * 24 * 60)


def scan_chance(k: int, expected: float, windows: float) -> float:
    """P(some window of `windows` consecutive ones holds >= k onsets), Poisson with `expected` per window.

    Alm (1983): 1 - F(k-1) exp(-(k - psi)/k * (L - 1) * psi * p(k-1)), with
    psi the expected count per window and L the horizon in windows.
    """
    if k <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    below = stats.poisson.cdf(k - 1, expected)
    at = stats.poisson.pmf(k - 1, expected)
    clumps = max(k - expected, 0.0) / k * max(windows - 1, 0.0) * expected * at
    return float(min(1.0, 1.0 - below * math.exp(-clumps)))


def overlaps(regions: frozenset[str], other: frozenset[str]) -> bool:
    return not regions or not other or bool(regions & other)


def _covers(onset: Onset, anchor: str | None) -> bool:
    return not onset.regions or (anchor is not None and anchor in onset.regions)


def _best_window(onsets: list[Onset], new: Onset, width: pd.Timedelta) -> list[Onset]:
    """The most onsets in one window of `width` that holds `new` (earliest such window on ties)."""
    best: list[Onset] = []
    for first in onsets:
        if first.started_at > new.started_at or new.started_at - first.started_at > width:
            continue
        inside = [o for o in onsets if first.started_at <= o.started_at <= first.started_at + width]
        if len(inside) > len(best):
            best = inside
    return best


def join_target(new: Onset, events: Iterable[EventView], config: GroupingConfig = DEFAULT_GROUPING) -> int | None:
    """The ongoing event `new` joins: onset within a window of the event's onsets, overlapping regions."""
    width = pd.Timedelta(minutes=config.window_minutes)
    near = [
        e for e in events
        if e.first_onset - width <= new.started_at <= e.last_onset + width and overlaps(new.regions, e.regions)
    ]  # fmt: skip
    return max(near, key=lambda e: (e.last_onset, e.event_id)).event_id if near else None


def form(
    new: Onset, others: Sequence[Onset], *, rate: float, config: GroupingConfig = DEFAULT_GROUPING
) -> Formed | None:
    """A new event around `new` from the ungrouped `others`, or None when chance explains them.

    One incident per service (its earliest); the members share one region
    (the anchor) or are worldwide.
    """
    earliest: dict[int, Onset] = {}
    for o in sorted([new, *others], key=lambda o: (o.started_at, o.incident_id)):
        if o.service_id != new.service_id or o.incident_id == new.incident_id:
            earliest.setdefault(o.service_id, o)
    if earliest.get(new.service_id) != new:
        return None
    pool = sorted(earliest.values(), key=lambda o: (o.started_at, o.incident_id))
    width = pd.Timedelta(minutes=config.window_minutes)
    anchors: list[str | None] = [None, *sorted(set().union(*(o.regions for o in pool)))]
    best: list[Onset] = []
    for anchor in anchors:
        if not _covers(new, anchor):
            continue
        members = _best_window([o for o in pool if _covers(o, anchor)], new, width)
        if len(members) > len(best):
            best = members
    if len(best) < config.min_services:
        return None
    chance = cluster_chance(best, rate=rate, config=config)
    if chance > config.alpha:
        return None
    return Formed(members=tuple(best), expected=rate * config.window_minutes, chance=chance)


def cluster_chance(onsets: Sequence[Onset], *, rate: float, config: GroupingConfig = DEFAULT_GROUPING) -> float:
    """The scan chance of the most onsets within one window: the event's figure as its members stand.

    Recomputed as members join, so it does not depend on which of two incidents
    detected in the same minute was grouped first (the live tick and the replay
    may take them in either order).
    """
    width = pd.Timedelta(minutes=config.window_minutes)
    starts = sorted(o.started_at for o in onsets)
    most = max((sum(1 for t in starts if s <= t <= s + width) for s in starts), default=0)
    return scan_chance(most, rate * config.window_minutes, config.horizon_hours * 60 / config.window_minutes)


def expected_by_chance(*, rate: float, span_minutes: float, config: GroupingConfig = DEFAULT_GROUPING) -> float:
    """Onsets that chance alone would put in the event's span (never less than one window: conservative)."""
    return rate * max(span_minutes, config.window_minutes)


def combined_scope(members: Sequence[Onset]) -> dict[str, list[str]]:
    """Regions any member covers ([] when all are worldwide); codes where at least two members agree."""
    regions = sorted(set().union(*(m.regions for m in members))) if members else []
    seen: dict[str, int] = {}
    for m in members:
        for code in m.codes:
            seen[code] = seen.get(code, 0) + 1
    return {"regions": regions, "codes": sorted(c for c, n in seen.items() if n >= 2)}


def attribute_provider(
    members: Sequence[Onset], *, shares: dict[str, float], config: GroupingConfig = DEFAULT_GROUPING
) -> Attribution | None:
    """The provider the members share far more than chance, or None.

    `shares`: each provider's share of all active services. The tail P(X >= m)
    for X ~ Binomial(n, share) is multiplied by the number of providers the
    members name (Bonferroni: we test each of them).
    """
    n = len(members)
    counts: dict[str, int] = {}
    for m in members:
        for p in m.providers:
            counts[p] = counts.get(p, 0) + 1
    best: Attribution | None = None
    for provider, m in counts.items():
        share = shares.get(provider, 0.0)
        if m < 2 or not 0 < share < 1:
            continue
        chance = min(1.0, float(stats.binom.sf(m - 1, n, share)) * len(counts))
        if chance <= config.provider_alpha and (best is None or (chance, -m) < (best.chance, -best.members)):
            best = Attribution(provider=provider, members=m, services=n, share=share, chance=chance)
    return best


def provider_label(provider: str) -> str:
    """'aws:us-east-1' -> 'AWS us-east-1', 'cloudflare' -> 'Cloudflare'."""
    name, _, where = provider.partition(":")
    name = name.upper() if len(name) <= 3 else name.capitalize()
    return f"{name} {where}".strip()
