"""Detection over a generated scenario or a count series without the database (tests, bench, NAB).

The same pipeline as `replay`: minute slices -> detect_frame -> lifecycle ->
scope; only the counts come from a DataFrame instead of the bucket table.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.core.detection import TREMOR_CONFIG, DetectorConfig
from analytics.core.lifecycle import IncidentState, incidents_over
from analytics.core.refit import grid_point
from analytics.core.scope import scope_of
from analytics.core.scoring import score_frame
from analytics.core.slices import TOTAL, slice_matrix


@dataclass(frozen=True)
class Found:
    state: IncidentState
    scope: dict
    shares: dict
    is_regional: bool


def detect_reports(reports: pd.DataFrame, *, config: DetectorConfig = TREMOR_CONFIG, offset: int = 0) -> list[Found]:
    """Incidents in a frame of reports (observed_at, region, country, code, feature) over its whole span.

    `offset`: the service's refit offset (analytics.core.refit); the frame starts on that grid, as the replay's does.
    """
    minute = reports["observed_at"].dt.floor("1min")
    rows = (
        reports.assign(minute=minute, count=1)
        .groupby(["minute", "region", "country", "code", "feature"], as_index=False)["count"]
        .sum()
    )
    start = grid_point(minute.min().floor("1D"), config, offset)
    matrix = slice_matrix(rows, start=start, end=minute.max() + pd.Timedelta(minutes=1))
    scored = score_frame(matrix, since=start, config=config)
    return [Found(s, *scope_of(s)) for s in incidents_over(scored, from_row=0)]


def series_openings(series: pd.Series, *, config: DetectorConfig = TREMOR_CONFIG) -> np.ndarray:
    """Rows where the replay of one count series (any step, irregular allowed) opens an incident.

    These are the flags `nab_evaluate` scores: the live configuration and
    lifecycle, so one episode is one flag (a relapse within the merge gap is a
    phase of the same incident, not a new flag).
    """
    series = series.sort_index()
    if series.empty:
        return np.zeros(0, dtype=int)
    frame = series.to_frame(TOTAL)
    scored = score_frame(frame, since=frame.index[0], config=config)
    found = incidents_over(scored, from_row=0)
    return np.asarray(sorted({int(scored.index.get_loc(s.detected_at)) for s in found}), dtype=int)
