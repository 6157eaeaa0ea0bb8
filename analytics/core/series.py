"""Pure pandas helpers for time series."""

from datetime import datetime

import pandas as pd

INTERVALS = {"1m": "1min", "5m": "5min", "15m": "15min", "1h": "1h"}


def zero_filled(counts: pd.Series, *, start: datetime, end: datetime, interval: str) -> pd.Series:
    """Counts per minute (DatetimeIndex, UTC) summed into `interval` bins covering [start, end).

    Bins are aligned on the interval (a 15m series starts at :00, :15, ...);
    bins with no report are 0.
    """
    freq = INTERVALS[interval]
    first = pd.Timestamp(start).floor(freq)
    index = pd.date_range(first, pd.Timestamp(end), freq=freq, inclusive="left")
    if counts.empty:
        return pd.Series(0, index=index, dtype="int64")
    binned = counts.groupby(counts.index.floor(freq)).sum()
    return binned.reindex(index, fill_value=0).astype("int64")
