"""Per-minute count matrices for a service and its slices (pure pandas).

A slice is one value of one dimension ("region:EU", "code:503") or of the
region x code cross ("region_code:EU|503"); "total" is the whole service.
The detector scores every column; an outage that shows only in one country or
one feature is found even when the total looks ordinary.
"""

from collections.abc import Iterable

import numpy as np
import pandas as pd

TOTAL = "total"
# Dimensions scored separately, and the DataFrame columns they come from.
SLICE_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "region": ("region",),
    "country": ("country",),
    "code": ("code",),
    "feature": ("feature",),
    "region_code": ("region", "code"),
}
# Scope dimensions (incident API names) -> slice dimension.
SCOPE_DIMENSIONS = {"regions": "region", "countries": "country", "codes": "code", "features": "feature"}


def slice_key(dimension: str, value: str) -> str:
    return f"{dimension}:{value}"


def split_key(key: str) -> tuple[str, str]:
    dimension, _, value = key.partition(":")
    return dimension, value


def slice_matrix(
    rows: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp, keys: Iterable[str] | None = None
) -> pd.DataFrame:
    """Counts per minute (rows, [start, end)) and slice key (columns), zero-filled.

    `rows` has columns minute, region, country, code, feature, count (bucket
    rows of one service). `keys` adds columns that must exist even when
    empty (slices with history but no report in this window).
    """
    index = pd.date_range(start, end, freq="1min", inclusive="left")
    columns: dict[str, pd.Series] = {}
    if len(rows):
        minute = pd.DatetimeIndex(pd.to_datetime(rows["minute"], utc=True))
        counts = rows["count"].to_numpy(dtype=float)
        columns[TOTAL] = pd.Series(counts, index=minute).groupby(level=0).sum()
        for dimension, fields in SLICE_DIMENSIONS.items():
            values = rows[fields[0]].astype(str)
            for extra in fields[1:]:
                values = values + "|" + rows[extra].astype(str)
            frame = pd.DataFrame({"minute": minute, "value": values.to_numpy(), "n": counts})
            table = frame.pivot_table(index="minute", columns="value", values="n", aggfunc="sum")
            for value in table.columns:
                columns[slice_key(dimension, value)] = table[value]
    matrix = pd.DataFrame(columns, index=index).reindex(index).fillna(0.0) if columns else pd.DataFrame(index=index)
    matrix[TOTAL] = matrix[TOTAL] if TOTAL in matrix else 0.0
    for key in keys or ():
        if key not in matrix:
            matrix[key] = 0.0
    return matrix.astype(np.float64)
