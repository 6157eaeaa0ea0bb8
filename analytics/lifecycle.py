"""Incident lifecycle as a pure state machine, one minute at a time.

The live tick and the replay feed it the same per-minute verdicts, so both
open, split and resolve incidents at the same minutes.

- open when the service reaches `problems` with fresh evidence;
- a phase ends when every alarming slice has been back near its baseline for
  `recovery_minutes`; the incident is then resolved, ended at the first
  recovered minute;
- a relapse within `merge_gap` of that end reopens the same incident as a new
  phase (14 Feb 2023: back around 13:00 Paris time, failing again soon after).
"""

from dataclasses import dataclass, field, replace
from datetime import timedelta

import pandas as pd

NORMAL, POSSIBLE, PROBLEMS = 0, 1, 2
OPENED, UPDATED, RESOLVED = "incident.opened", "incident.updated", "incident.resolved"


@dataclass(frozen=True)
class LifecycleConfig:
    recovery_minutes: int = 15
    merge_gap: timedelta = timedelta(hours=2)


DEFAULT_LIFECYCLE = LifecycleConfig()


@dataclass(frozen=True)
class Verdict:
    """What the detector says about one service at one closed minute."""

    minute: pd.Timestamp
    level: int  # max over the service's series
    alarm_keys: tuple[str, ...]  # series at `problems` now
    elevated: bool  # some series of the incident is above its band on the short window
    count: float  # total reports this minute
    expected: float  # total expected this minute
    onset: pd.Timestamp | None = None  # estimated start of the current rise


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
    if v.minute - state.recovering_since >= timedelta(minutes=config.recovery_minutes - 1):
        state.status = "resolved"
        state.ended_at = state.recovering_since
        state.phases[-1][1] = state.recovering_since
        state.level = NORMAL
        state.recovering_since = None
        return state, [RESOLVED]
    return state, events
