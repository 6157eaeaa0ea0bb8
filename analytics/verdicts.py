"""From per-series detector output to per-minute service verdicts (pure numpy).

Inputs are matrices of shape (minutes, series) over the same columns as
`analytics.slices.slice_matrix`; the live tick passes its last window of
minutes, the replay the whole range, and row t of the output depends only on
rows <= t.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .detection import TREMOR_CONFIG, DetectorConfig, detect_frame
from .lifecycle import DEFAULT_LIFECYCLE, PROBLEMS, IncidentState, LifecycleConfig, Verdict, advance
from .scope import incident_scope, is_regional
from .slices import SCOPE_DIMENSIONS, TOTAL, split_key

# How far back the onset of a rise is looked for; the tick keeps this many minutes.
ONSET_LOOKBACK_MINUTES = 90
# Counts above this multiple of the baseline push the CUSUM up: below it, the
# ordinary noise of a quiet slice must not drag the onset earlier.
ONSET_K = 2.0


@dataclass(frozen=True)
class Scored:
    """Detector output for one service: (minutes, series) arrays."""

    index: pd.DatetimeIndex  # minutes
    keys: list[str]  # series
    counts: np.ndarray
    expected: np.ndarray
    level: np.ndarray  # int 0/1/2
    evidence: np.ndarray  # max -log10 p over windows
    elevated: np.ndarray  # bool: above the band on the short window, with enough excess

    def column(self, key: str) -> int:
        return self.keys.index(key)


def estimate_onset(counts: np.ndarray, expected: np.ndarray, *, k: float = ONSET_K) -> int:
    """Row where the current rise began: the minimum of the CUSUM of (count - k * expected).

    Quiet slices (a tenth of a report a minute) get a slack of half a report a
    minute, or a lone ordinary report would look like the start of the rise.
    """
    if len(counts) == 0:
        return 0
    cusum = np.concatenate([[0.0], np.cumsum(counts - expected - np.maximum((k - 1) * expected, 0.5))])
    # The last minimum: a flat stretch before the rise belongs to "before".
    low = cusum.min()
    return int(np.flatnonzero(cusum <= low + 1e-9)[-1])


def verdict_at(scored: Scored, row: int, *, not_before: pd.Timestamp | None = None) -> Verdict:
    """The verdict for minute `row`, from rows <= row only.

    `not_before` bounds the onset search (a relapse starts after the recovery).
    """
    level_row = scored.level[row]
    level = int(level_row.max()) if level_row.size else 0
    alarm = np.flatnonzero(level_row >= PROBLEMS)
    onset = None
    if alarm.size:
        # The strongest alarming series shows the rise most clearly.
        strongest = alarm[np.argmax(scored.evidence[row, alarm])]
        lo = max(0, row - ONSET_LOOKBACK_MINUTES + 1)
        if not_before is not None:
            lo = max(lo, min(int(scored.index.searchsorted(not_before)), row))
        start = lo + estimate_onset(scored.counts[lo : row + 1, strongest], scored.expected[lo : row + 1, strongest])
        onset = scored.index[min(start, row)]
    total = scored.column(TOTAL)
    return Verdict(
        minute=scored.index[row],
        level=level,
        alarm_keys=tuple(scored.keys[i] for i in alarm),
        elevated=bool(scored.elevated[row].any()),
        count=float(scored.counts[row, total]),
        expected=float(scored.expected[row, total]),
        onset=onset,
    )


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
    else:
        accumulate(state, scored, range(row, row + 1))
    return state, events


def score_frame(matrix: pd.DataFrame, *, since: pd.Timestamp, config: DetectorConfig = TREMOR_CONFIG) -> Scored:
    result = detect_frame(matrix, config=config, since=since)
    return Scored(
        index=result.index,
        keys=result.keys,
        counts=result.counts.T,
        expected=result.expected.T,
        level=result.level.T,
        evidence=result.evidence.T,
        elevated=result.elevated.T,
    )


def incidents_over(
    scored: Scored, *, from_row: int, lifecycle: LifecycleConfig = DEFAULT_LIFECYCLE
) -> list[IncidentState]:
    """Every incident the lifecycle opens from `from_row` to the end, in order."""
    incidents: list[IncidentState] = []
    state: IncidentState | None = None
    # Minutes with no alarm and no ongoing incident change nothing: skip them.
    alarm = (scored.level.max(axis=1) >= 2) & scored.elevated.any(axis=1)
    for row in range(from_row, len(scored.index)):
        if not alarm[row] and (state is None or not state.ongoing):
            continue
        before = state
        state, events = step_minute(state, scored, row, lifecycle)
        if "incident.opened" in events:
            if before is not None:
                incidents.append(before)
    if state is not None:
        incidents.append(state)
    return incidents


def scope_of(state: IncidentState) -> tuple[dict, dict, bool]:
    """(scope, scope_shares, is_regional) from the incident's accumulated slice sums."""
    observed: dict[str, dict[str, float]] = {dim: {} for dim in SCOPE_DIMENSIONS}
    expected: dict[str, dict[str, float]] = {dim: {} for dim in SCOPE_DIMENSIONS}
    by_slice = {slice_dim: dim for dim, slice_dim in SCOPE_DIMENSIONS.items()}
    for key, (obs, exp) in state.sums.items():
        dimension, value = split_key(key)
        if dimension in by_slice:
            observed[by_slice[dimension]][value] = obs
            expected[by_slice[dimension]][value] = exp
    scope, shares = incident_scope(
        {dim: pd.Series(values, dtype=float) for dim, values in observed.items()},
        {dim: pd.Series(values, dtype=float) for dim, values in expected.items()},
    )
    scope = {dim: list(scope.get(dim, [])) for dim in SCOPE_DIMENSIONS}
    return scope, shares, is_regional(scope, pd.Series(expected["regions"], dtype=float))
