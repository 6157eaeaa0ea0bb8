"""From per-series detector output to one verdict per service and minute (pure numpy).

Inputs are matrices of shape (minutes, series) over the same columns as
`analytics.core.slices.slice_matrix`; the live tick passes its last window of
minutes, the replay the whole range, and row t of the output depends only on
rows <= t.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .detection import TREMOR_CONFIG, DetectorConfig, detect_frame
from .levels import PROBLEMS
from .slices import TOTAL

# How far back the onset of a rise is looked for; the tick keeps this many minutes.
ONSET_LOOKBACK_MINUTES = 90
# Counts above this multiple of the baseline push the CUSUM up: below it, the
# ordinary noise of a quiet slice must not drag the onset earlier.
ONSET_K = 2.0


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


def score_frame(matrix: pd.DataFrame, *, since: pd.Timestamp, config: DetectorConfig = TREMOR_CONFIG) -> Scored:
    # Verdicts need no chart band (Scored has none): its NB quantiles were a sixth of a replay.
    result = detect_frame(matrix, config=config, since=since, with_upper=False)
    return Scored(
        index=result.index,
        keys=result.keys,
        counts=result.counts.T,
        expected=result.expected.T,
        level=result.level.T,
        evidence=result.evidence.T,
        elevated=result.elevated.T,
    )
