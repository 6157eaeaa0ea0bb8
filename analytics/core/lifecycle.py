"""Incident lifecycle as a pure state machine, one minute at a time.

The live tick and the replay feed it the same per-minute verdicts, so both
open, split and resolve incidents at the same minutes.

- open when the service reaches `problems` with fresh evidence;
- a phase ends when every alarming slice has been back near its baseline for
  `recovery_minutes`, or a tenth of the time since the incident started if
  longer (`recovery_share`); the incident is then resolved, ended at the first
  recovered minute;
- a relapse within `merge_gap` of that end reopens the same incident as a new
  phase (14 Feb 2023: back around 13:00 Paris time, failing again soon after).
"""

from dataclasses import dataclass, field, replace
from datetime import timedelta

import numpy as np
import pandas as pd

from .levels import NORMAL, PROBLEMS
from .scoring import Scored, Verdict, verdict_at
from .slices import TOTAL

OPENED, UPDATED, RESOLVED = "incident.opened", "incident.updated", "incident.resolved"
EVENT_TYPES = (OPENED, UPDATED, RESOLVED)  # what webhooks and feeds announce


@dataclass(frozen=True)
class LifecycleConfig:
    recovery_minutes: int = 15
    # A long outage fades out in dips and bursts: the quiet that ends it grows with
    # its length (this share of the time since it started), so a fading tail is not
    # split into phases, while a real recovery after a few hours still is.
    recovery_share: float = 0.1
    merge_gap: timedelta = timedelta(hours=2)


DEFAULT_LIFECYCLE = LifecycleConfig()
ONE_MINUTE = timedelta(minutes=1)


def recovery_quiet(config: LifecycleConfig, started_at, recovering_since) -> timedelta:
    """How long an incident that started at `started_at` must stay quiet from `recovering_since` to end."""
    return max(timedelta(minutes=config.recovery_minutes), config.recovery_share * (recovering_since - started_at))


@dataclass
class IncidentState:
    started_at: pd.Timestamp
    detected_at: pd.Timestamp
    peak_at: pd.Timestamp
    peak_reports_per_minute: float
    baseline_at_peak: float
    excess_reports: float = 0.0
    level: int = PROBLEMS
    status: str = "ongoing"
    ended_at: pd.Timestamp | None = None
    phases: list[list] = field(default_factory=list)  # [[start, end | None], ...]
    alarm_keys: set[str] = field(default_factory=set)
    recovering_since: pd.Timestamp | None = None
    # Reports and baseline per slice key summed over the incident's minutes: the scope's input.
    sums: dict[str, tuple[float, float]] = field(default_factory=dict)
    # The sums as they stood in the minute the incident opened: its scope at detection, which the
    # widespread grouping decides on. Set once; a replay, which keeps only the final state, has it too.
    onset_sums: dict[str, tuple[float, float]] | None = None

    @property
    def ongoing(self) -> bool:
        return self.status == "ongoing"


def _open(v: Verdict) -> IncidentState:
    start = min(v.onset or v.minute, v.minute)
    return IncidentState(
        started_at=start,
        detected_at=v.minute,
        peak_at=v.minute,
        peak_reports_per_minute=v.count,
        baseline_at_peak=v.expected,
        level=v.level,
        phases=[[start, None]],
        alarm_keys=set(v.alarm_keys),
    )


def advance(
    state: IncidentState | None, v: Verdict, config: LifecycleConfig = DEFAULT_LIFECYCLE
) -> tuple[IncidentState | None, list[str]]:
    """Apply one minute's verdict; returns the new state and the events it caused.

    A resolved state past the merge gap is dropped (returned as None) only
    when a new incident opens; the caller keeps it otherwise.
    """
    alarm = v.level >= PROBLEMS and v.elevated
    if state is None or not state.ongoing:
        if not alarm:
            return state, []
        if state is not None and v.minute - state.ended_at <= config.merge_gap:
            start = max(min(v.onset or v.minute, v.minute), state.ended_at)
            state = replace(
                state, status="ongoing", ended_at=None, level=v.level, recovering_since=None,
                phases=[*state.phases, [start, None]], alarm_keys=state.alarm_keys | set(v.alarm_keys),
            )  # fmt: skip
            return state, [UPDATED]
        return _open(v), [OPENED]

    events: list[str] = []
    if set(v.alarm_keys) - state.alarm_keys:
        state.alarm_keys |= set(v.alarm_keys)
    if v.level != state.level:
        state.level = v.level
        events.append(UPDATED)
    if v.elevated:
        state.recovering_since = None
        return state, events
    state.recovering_since = state.recovering_since or v.minute
    quiet = recovery_quiet(config, state.started_at, state.recovering_since)
    if v.minute - state.recovering_since >= quiet - ONE_MINUTE:
        state.status = "resolved"
        state.ended_at = state.recovering_since
        state.phases[-1][1] = state.recovering_since
        state.level = NORMAL
        state.recovering_since = None
        return state, [RESOLVED]
    return state, events


def accumulate(state: IncidentState, scored: Scored, rows: range) -> None:
    """Add these minutes to the incident: per-slice sums (for the scope), excess and peak."""
    if not len(rows):
        return
    counts, expected = scored.counts[rows.start : rows.stop], scored.expected[rows.start : rows.stop]
    for key, obs, exp in zip(scored.keys, counts.sum(axis=0), expected.sum(axis=0), strict=True):
        if obs or exp:
            previous = state.sums.get(key, (0.0, 0.0))
            state.sums[key] = (previous[0] + float(obs), previous[1] + float(exp))
    total = scored.column(TOTAL)
    state.excess_reports += float(np.clip(counts[:, total] - expected[:, total], 0, None).sum())
    peak = int(np.argmax(counts[:, total]))
    if counts[peak, total] > state.peak_reports_per_minute:
        state.peak_at = scored.index[rows.start + peak]
        state.peak_reports_per_minute = float(counts[peak, total])
        state.baseline_at_peak = float(expected[peak, total])


def step_minute(
    state: IncidentState | None, scored: Scored, row: int, config: LifecycleConfig = DEFAULT_LIFECYCLE
) -> tuple[IncidentState | None, list[str]]:
    """One minute of the incident lifecycle: the live tick and the replay both call this."""
    was_ongoing = state is not None and state.ongoing
    resumed_from = state.ended_at if state is not None and not was_ongoing else None
    state, events = advance(state, verdict_at(scored, row, not_before=resumed_from), config)
    if state is None or not state.ongoing and not was_ongoing:
        return state, events
    if not was_ongoing:
        # Opened or reopened: the minutes since the estimated start belong to it too.
        first = scored.index.get_loc(state.phases[-1][0]) if state.phases[-1][0] >= scored.index[0] else 0
        accumulate(state, scored, range(first, row + 1))
        if OPENED in events:
            state.onset_sums = dict(state.sums)
    else:
        accumulate(state, scored, range(row, row + 1))
    return state, events


def incidents_over(
    scored: Scored, *, from_row: int, lifecycle: LifecycleConfig = DEFAULT_LIFECYCLE
) -> list[IncidentState]:
    """Every incident the lifecycle opens from `from_row` to the end, in order."""
    incidents: list[IncidentState] = []
    state: IncidentState | None = None
    # Minutes with no alarm and no ongoing incident change nothing: skip them.
    alarm = (scored.level.max(axis=1) >= PROBLEMS) & scored.elevated.any(axis=1)
    for row in range(from_row, len(scored.index)):
        if not alarm[row] and (state is None or not state.ongoing):
            continue
        before = state
        state, events = step_minute(state, scored, row, lifecycle)
        if OPENED in events:
            if before is not None:
                incidents.append(before)
    if state is not None:
        incidents.append(state)
    return incidents
