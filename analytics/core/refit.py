"""Each service's refit grid: when its baseline profiles are fitted again.

Every `refit_minutes` (6 hours for Tremor), shifted by a per-service offset.
The live tick, the replay's frame start and the chart band all place a
service's refit points with these functions, so they fit the same
profiles at the same minutes.
"""

from datetime import datetime

import pandas as pd

from .baseline import DetectorConfig


def refit_offset(service_id: int, config: DetectorConfig) -> int:
    """Minutes after 00/06/12/18 UTC (for a 6-hour grid) at which this service refits.

    With one grid for all, every service refitted in the same tick and that tick
    cost ~7x the others (bench 4). Consecutive ids take consecutive minutes, so
    each minute only 1/refit_minutes of the services refit. Whole rows of the
    live series (1 minute), so a frame that starts on the grid starts on a row.
    """
    step = max(1, int(config.step_minutes))
    return int(service_id) % max(1, int(config.refit_minutes) // step) * step


def grid_point(
    minute: pd.Timestamp | pd.DatetimeIndex, config: DetectorConfig, offset: int = 0
) -> pd.Timestamp | pd.DatetimeIndex:
    """The latest refit point at or before `minute` (or each minute) on the grid shifted by `offset` minutes."""
    shift = pd.Timedelta(minutes=offset)
    return (minute - shift).floor(f"{int(config.refit_minutes)}min") + shift


def frame_start(
    moment: datetime, config: DetectorConfig, *, first_data: datetime | None, offset: int = 0
) -> pd.Timestamp:
    """Start of the history a decision at `moment` can see.

    Day-aligned, then moved back onto the service's refit grid (`offset`, see
    analytics.core.refit), because detect_frame refits on a grid anchored at the
    frame's first minute; and never more than one refit period before the day
    of the service's first report: minutes before a service had reports are not
    "zero reports", and counting them so would drag its baseline down.
    """
    start = pd.Timestamp(moment).floor("1D") - pd.Timedelta(days=config.history_days)
    if first_data is not None:
        start = max(start, pd.Timestamp(first_data).floor("1D"))
    return grid_point(start, config, offset)
