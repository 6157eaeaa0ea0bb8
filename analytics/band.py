"""The chart band: what the detector expected, and the top of its normal range, per chart bucket.

Read from the same stored profiles the tick scores with (analytics.profiles),
so the "typical level" a reader sees is the detector's.
"""

from datetime import datetime

import numpy as np
import pandas as pd
from scipy import stats

from .core.baseline import time_slots
from .core.detection import TREMOR_CONFIG
from .core.refit import grid_point, refit_offset
from .core.series import INTERVALS
from .profiles import cached_profiles


def baseline_band(*, service_id: int, start: datetime, end: datetime, interval: str) -> pd.DataFrame:
    """Typical reports per bucket for that time of day and weekday, and the top of the normal band.

    Indexed like `timeseries`. Up to two days back each minute gets the
    profile the detector had in force then (fitted before it, so an outage
    does not raise its own band); longer ranges use the latest profile, as
    Downdetector's "typical levels" do.
    """
    freq = INTERVALS[interval]
    index = pd.date_range(pd.Timestamp(start).floor(freq), pd.Timestamp(end), freq=freq, inclusive="left")
    if not len(index):
        return pd.DataFrame({"expected": [], "upper": []}, index=index)
    minutes = pd.date_range(index[0], index[-1] + pd.Timedelta(freq), freq="1min", inclusive="left")
    tod, dow = time_slots(minutes, TREMOR_CONFIG.slot_minutes)
    # The service's own refit grid, so the band shows the profiles the tick scored with.
    offset = refit_offset(service_id, TREMOR_CONFIG)
    latest = grid_point(min(pd.Timestamp(end), pd.Timestamp.now(tz="UTC")).floor("1min"), TREMOR_CONFIG, offset)
    per_grid = pd.Timestamp(end) - pd.Timestamp(start) <= pd.Timedelta(days=2)
    grids = grid_point(minutes, TREMOR_CONFIG, offset) if per_grid else pd.DatetimeIndex([latest] * len(minutes))
    expected = np.full(len(minutes), np.nan)
    alpha = np.full(len(minutes), np.nan)
    for at in grids.unique():
        profile = cached_profiles(service_id=service_id, at=min(at, latest)).profiles.get("total")
        if profile is None or profile[1]:  # no history, or still warming up: no band there
            continue
        rows = grids == at
        expected[rows] = profile[0].expected_for_slots(tod[rows], dow[rows], 1.0)
        # Sums over 15 minutes or more: the 30-minute window's dispersion describes them best.
        alpha[rows] = profile[0].alpha[-1]
    frame = pd.DataFrame({"expected": expected, "alpha": alpha}, index=minutes)
    binned = frame.groupby(frame.index.floor(freq)).agg(expected=("expected", "sum"), alpha=("alpha", "mean"))
    binned.loc[frame["expected"].isna().groupby(frame.index.floor(freq)).any(), "expected"] = np.nan
    binned = binned.reindex(index)
    r = 1.0 / np.maximum(binned["alpha"].to_numpy(), 1e-6)
    mean = binned["expected"].to_numpy()
    upper = np.where(
        np.isnan(mean), np.nan, stats.nbinom.ppf(TREMOR_CONFIG.upper_quantile, r, r / (r + np.nan_to_num(mean) + 1e-9))
    )
    return pd.DataFrame({"expected": mean, "upper": upper}, index=index)
