"""Charts of a widespread event: its services' report curves, each over its own baseline, and the map.

Pure: curves in, plotly figure dicts out (like public/charts.py). A service
with 5 reports a minute and one with 500 fail together on one scale only when
each is divided by its own typical level: 1 is normal, 10 is ten times normal.
"""

from __future__ import annotations

import pandas as pd
from django.utils.translation import gettext as _

from .charts import _base_layout, _iso_index

# At least this many reports per bucket count as "typical": a quiet service's night
# would otherwise show a single report as a hundredfold surge.
MIN_TYPICAL = 1.0


def normalised(counts: pd.Series, expected: pd.Series | None) -> pd.Series:
    """Reports over the typical level of the same bucket (1 = normal)."""
    typical = expected.reindex(counts.index) if expected is not None else None
    if typical is None or typical.isna().all():
        typical = pd.Series(counts.median(), index=counts.index)
    return (counts / typical.fillna(MIN_TYPICAL).clip(lower=MIN_TYPICAL)).round(2)


def curves_figure(
    curves: list[tuple[str, pd.Series]], *, started_at, ended_at=None, language: str = "en", height: int = 380
) -> dict:
    """One line per service (in join order), with the event shaded."""
    data = [
        {
            "type": "scatter", "mode": "lines", "name": name, "x": list(_iso_index(series.index)),
            "y": [float(v) for v in series.to_numpy()], "line": {"width": 1.5},
            "hovertemplate": "%{y:.1f}×<extra>" + name + "</extra>",
        }
        for name, series in curves
    ]  # fmt: skip
    last = max((s.index.max() for _, s in curves), default=pd.Timestamp(started_at))
    end = pd.Timestamp(ended_at) if ended_at else last
    layout = _base_layout(language, height=height)
    layout.update(
        {
            "showlegend": len(curves) <= 15,
            "yaxis": {"title": {"text": _("Reports, times their usual level")}, "rangemode": "tozero"},
            "xaxis": {"type": "date"},
            "shapes": [
                {
                    "type": "rect", "xref": "x", "yref": "paper", "y0": 0, "y1": 1,
                    "x0": pd.Timestamp(started_at).isoformat(), "x1": end.isoformat(),
                    "fillcolor": "rgba(192, 57, 43, 0.10)", "line": {"width": 0}, "layer": "below",
                }
            ],
        }
    )  # fmt: skip
    return {"data": data, "layout": layout}
