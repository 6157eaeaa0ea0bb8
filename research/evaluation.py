"""Detection over a generated scenario without the database (tests and bench scripts).

The same pipeline as `replay`: minute slices -> detect_frame -> lifecycle ->
scope; only the counts come from a DataFrame instead of the bucket table.
"""

from dataclasses import dataclass

import pandas as pd

from analytics.core.detection import TREMOR_CONFIG, DetectorConfig
from analytics.core.lifecycle import IncidentState, incidents_over
from analytics.core.refit import grid_point
from analytics.core.scope import scope_of
from analytics.core.scoring import score_frame
from analytics.core.slices import slice_matrix


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
