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
    columns: dict[str, int] = {TOTAL: 0}
    for key in keys or ():
        columns.setdefault(key, len(columns))
    if not len(rows):
        return pd.DataFrame(np.zeros((len(index), len(columns))), index=index, columns=sorted(columns))
    # Plain numpy: the live tick builds one of these per service per minute,
    # and pandas pivots cost ten times more than the scoring itself.
    minute = pd.DatetimeIndex(pd.to_datetime(rows["minute"], utc=True))
    at = ((minute - index[0]) // pd.Timedelta(minutes=1)).to_numpy(dtype=np.int64)
    inside = (at >= 0) & (at < len(index))
    at = at[inside]
    counts = rows["count"].to_numpy(dtype=float)[inside]
    values = {field: rows[field].astype(str).to_numpy()[inside] for field in ("region", "country", "code", "feature")}
    cells: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(len(at), dtype=np.int64), at)]
    for dimension, fields in SLICE_DIMENSIONS.items():
        labels = values[fields[0]]
        for extra in fields[1:]:
            labels = np.char.add(np.char.add(labels.astype(str), "|"), values[extra].astype(str))
        codes, uniques = pd.factorize(labels)
        ids = np.array(
            [columns.setdefault(slice_key(dimension, str(u)), len(columns)) for u in uniques], dtype=np.int64
        )
        cells.append((ids[codes] if len(codes) else np.zeros(0, dtype=np.int64), at))
    matrix = np.zeros((len(index), len(columns)))
    for column_ids, row_ids in cells:
        np.add.at(matrix, (row_ids, column_ids), counts)
    # Sorted columns: the tick and the replay see the series in the same order.
    return pd.DataFrame(matrix, index=index, columns=list(columns)).sort_index(axis=1)
