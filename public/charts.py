"""Chart building: pure functions from counts to plotly figure specs, CSV and text alternatives.

Figures are plain plotly figure dicts ({"data": [...], "layout": {...}}) rather than
`plotly.graph_objects.Figure`: validating a 720-point figure costs ~20 ms per request,
and the tests already validate every builder's output against plotly's schema.
Labels go through gettext, so the active Django language picks the words.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import pandas as pd
import pycountry
from django.utils import formats
from django.utils.translation import gettext as _

from reports.regions import localized_country_name

ACCENT = "#c0392b"
BAND = "rgba(39, 110, 176, 0.16)"
TYPICAL = "#276eb0"
ONGOING_FILL = "rgba(192, 57, 43, 0.14)"
PAST_FILL = "rgba(230, 126, 34, 0.12)"

# plotly's `separators`: decimal mark then thousands mark.
SEPARATORS = {"en": ".,", "fr": ",\u202f", "de": ",."}
INTERVAL_MINUTES = {"1m": 1, "5m": 5, "15m": 15, "1h": 60}


def _iso(ts: pd.Timestamp | datetime) -> str:
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_index(index: pd.DatetimeIndex) -> pd.Index:
    return index.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def per_interval_label(interval: str) -> str:
    return {
        "1m": _("Reports per minute"),
        "5m": _("Reports per 5 minutes"),
        "15m": _("Reports per 15 minutes"),
        "1h": _("Reports per hour"),
    }[interval]


def _base_layout(language: str, *, height: int) -> dict:
    return {
        "height": height,
        "margin": {"l": 56, "r": 16, "t": 16, "b": 48},
        "separators": SEPARATORS.get(language, SEPARATORS["en"]),
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "font": {"family": "system-ui, sans-serif", "size": 13, "color": "#1d232a"},
        "hovermode": "x unified",
    }


def timeline_figure(
    series: pd.Series,
    *,
    interval: str,
    band: pd.DataFrame | None = None,
    incidents: Sequence[Mapping] = (),
    end: datetime | None = None,
    peak_at: datetime | None = None,
    language: str = "en",
    height: int = 340,
) -> dict:
    """Reports per bucket as a line over the normal band (0 to `upper`) and the typical level.

    `series`: counts indexed by UTC bucket start. `band`: columns `expected` and `upper`
    on the same index (missing buckets are left out of the band). `incidents`: dicts
    with `phases` [{"started_at", "ended_at"}] (ISO strings or datetimes; an open
    phase ends at `end`) and `status` ("ongoing" shades red, others orange).
    """
    x = list(_iso_index(series.index))
    data: list[dict] = []
    if band is not None and not band.empty:
        aligned = band.reindex(series.index)
        keep = aligned["upper"].notna().to_numpy()
        bx = [t for t, k in zip(x, keep, strict=True) if k]
        upper = [round(float(v), 2) for v in aligned["upper"][keep]]
        expected = [round(float(v), 2) for v in aligned["expected"][keep]]
        data.append(
            {
                "type": "scatter",
                "x": bx,
                "y": upper,
                "name": _("Normal range"),
                "mode": "lines",
                "line": {"width": 0, "shape": "hv"},
                "fill": "tozeroy",
                "fillcolor": BAND,
                "hovertemplate": "%{y:.0f}",
            }
        )
        data.append(
            {
                "type": "scatter",
                "x": bx,
                "y": expected,
                "name": _("Typical level"),
                "mode": "lines",
                "line": {"color": TYPICAL, "width": 1.5, "dash": "dot", "shape": "hv"},
                "hovertemplate": "%{y:.0f}",
            }
        )
    data.append(
        {
            "type": "scatter",
            "x": x,
            "y": [int(v) for v in series.to_numpy()],
            "name": _("Reports"),
            "mode": "lines",
            "line": {"color": ACCENT, "width": 2.2, "shape": "hv"},
            "hovertemplate": "%{y:,}",
        }
    )
    shapes, annotations = _incident_marks(incidents, series, interval=interval, end=end)
    if peak_at is not None and not series.empty:
        # The incident's peak minute, marked on the bucket that holds it.
        at = pd.Timestamp(peak_at).tz_convert("UTC").floor(pd.Timedelta(minutes=INTERVAL_MINUTES[interval]))
        if at in series.index:
            annotations.append(
                {"x": _iso(at), "y": int(series[at]), "xref": "x", "yref": "y", "text": _("Peak"),
                 "showarrow": True, "arrowhead": 2, "ax": 30, "ay": -24, "font": {"size": 11}}
            )  # fmt: skip
    layout = _base_layout(language, height=height)
    layout.update(
        {
            "xaxis": {"title": {"text": _("Time (UTC)")}, "type": "date", "showgrid": False},
            "yaxis": {
                "title": {"text": per_interval_label(interval)},
                "rangemode": "tozero",
                "gridcolor": "#eceff1",
                "tickformat": ",d",
            },
            "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            "margin": {"l": 60, "r": 16, "t": 36, "b": 48},
            "shapes": shapes,
            "annotations": annotations,
        }
    )
    return {"data": data, "layout": layout}


def _incident_marks(
    incidents: Sequence[Mapping], series: pd.Series, *, interval: str, end: datetime | None
) -> tuple[list, list]:
    if series.empty:
        return [], []
    lo, hi = series.index[0], series.index[-1] + pd.Timedelta(minutes=INTERVAL_MINUTES[interval])
    open_end = pd.Timestamp(end) if end is not None else hi
    shapes: list[dict] = []
    annotations: list[dict] = []
    for incident in incidents:
        ongoing = incident.get("status") == "ongoing"
        mine: list[dict] = []
        for phase in incident.get("phases") or []:
            start = pd.Timestamp(phase["started_at"])
            stop = pd.Timestamp(phase["ended_at"]) if phase.get("ended_at") else open_end
            start, stop = max(start, lo), min(stop, hi)
            if stop <= start:
                continue
            mine.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "paper",
                    "x0": _iso(start),
                    "x1": _iso(stop),
                    "y0": 0,
                    "y1": 1,
                    "fillcolor": ONGOING_FILL if ongoing else PAST_FILL,
                    "line": {"width": 0},
                    "layer": "below",
                }
            )
        if mine:
            annotations.append(
                {
                    "x": mine[0]["x0"],
                    "y": 1,
                    "xref": "x",
                    "yref": "paper",
                    "yanchor": "top",
                    "xanchor": "left",
                    "showarrow": False,
                    "text": _("Ongoing incident") if ongoing else _("Past incident"),
                    "font": {"size": 11, "color": ACCENT if ongoing else "#a04000"},
                }
            )
        shapes.extend(mine)
    return shapes, annotations


def iso3(alpha2: str) -> str | None:
    country = pycountry.countries.get(alpha_2=alpha2)
    return country.alpha_3 if country is not None else None


def country_name(alpha2: str) -> str:
    """The country's common name in the active language ("DE" -> "Germany", "Deutschland")."""
    return localized_country_name(alpha2)


def map_figure(rows: Iterable[Mapping], *, language: str = "en", height: int = 360) -> dict:
    """World choropleth of reports per country; `rows` as from `selectors.breakdown(dimension="country")`.

    plotly's choropleth keys countries by ISO-3; codes it cannot map are left off the map
    (they stay in the CSV and the table).
    """
    locations, z, names = [], [], []
    for row in rows:
        code = iso3(str(row["value"]))
        if code is None:
            continue
        locations.append(code)
        z.append(int(row["count"]))
        names.append(country_name(str(row["value"])))
    trace = {
        "type": "choropleth",
        "locationmode": "ISO-3",
        "locations": locations,
        "z": z,
        "text": names,
        "colorscale": [[0, "#fde0dc"], [1, ACCENT]],
        "marker": {"line": {"color": "#ffffff", "width": 0.5}},
        "colorbar": {"title": {"text": _("Reports")}, "thickness": 12, "len": 0.8},
        "hovertemplate": "%{text}: %{z:,}<extra></extra>",
        "zmin": 0,
    }
    layout = _base_layout(language, height=height)
    layout.update(
        {
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "geo": {
                "scope": "world",
                "resolution": 110,
                "projection": {"type": "natural earth"},
                "showframe": False,
                "showcoastlines": False,
                "showcountries": True,
                "countrycolor": "#c7ccd1",
                "showland": True,
                "landcolor": "#f1f3f5",
                "lataxis": {"range": [-58, 85]},
            },
        }
    )
    return {"data": [trace], "layout": layout}


def breakdown_figure(
    rows: Sequence[Mapping], *, labels: Mapping[str, str] | None = None, language: str = "en", limit: int = 8
) -> dict:
    """Horizontal bars, largest on top; `rows` as from `selectors.breakdown`, `labels` names values."""
    shown = list(rows)[:limit]
    names = [(labels or {}).get(str(r["value"]), str(r["value"])) for r in shown]
    trace = {
        "type": "bar",
        "orientation": "h",
        "y": names[::-1],
        "x": [int(r["count"]) for r in shown][::-1],
        "text": [f"{formats.number_format(r['share'], decimal_pos=1)} %" for r in shown][::-1],
        "textposition": "auto",
        "marker": {"color": ACCENT},
        "hovertemplate": "%{y}: %{x:,}<extra></extra>",
    }
    layout = _base_layout(language, height=max(140, 40 + 30 * len(shown)))
    layout.update(
        {
            "margin": {"l": 120, "r": 16, "t": 8, "b": 36},
            "xaxis": {
                "title": {"text": _("Reports")},
                "rangemode": "tozero",
                "gridcolor": "#eceff1",
                "nticks": 4,
                "tickformat": "~s",
            },
            "yaxis": {"automargin": True, "type": "category"},
            "hovermode": "closest",
            "bargap": 0.25,
        }
    )
    return {"data": [trace], "layout": layout}


def sparkline_points(series: pd.Series, *, width: int = 120, height: int = 28) -> str:
    """SVG polyline points for a small inline sparkline (no JavaScript needed on the home page)."""
    values = [float(v) for v in series.to_numpy()]
    if not values:
        return ""
    top = max(values) or 1.0
    step = width / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{height - 1 - (v / top) * (height - 2):.1f}" for i, v in enumerate(values))


def timeline_csv(series: pd.Series, band: pd.DataFrame | None = None) -> str:
    frame = pd.DataFrame({"bucket_start_utc": _iso_index(series.index), "reports": series.to_numpy(dtype="int64")})
    if band is not None and not band.empty:
        aligned = band.reindex(series.index)
        frame["expected"] = aligned["expected"].round(2).to_numpy()
        frame["upper"] = aligned["upper"].round(2).to_numpy()
    else:
        frame["expected"] = frame["upper"] = None
    return frame.to_csv(index=False, lineterminator="\n")


def breakdown_csv(rows: Iterable[Mapping], *, dimension: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([dimension, "reports", "share_percent"])
    for row in rows:
        writer.writerow([row["value"], int(row["count"]), row["share"]])
    return out.getvalue()


def timeline_facts(series: pd.Series, band: pd.DataFrame | None = None) -> dict:
    """The numbers a text alternative needs: total, peak (and typical level then), latest bucket."""
    if series.empty:
        return {"total": 0, "peak": 0, "peak_at": None, "latest": 0, "latest_at": None, "expected_at_peak": None}
    peak_at = series.idxmax()
    expected_at_peak = None
    if band is not None and not band.empty and peak_at in band.index and pd.notna(band.at[peak_at, "expected"]):
        expected_at_peak = round(float(band.at[peak_at, "expected"]), 1)
    return {
        "total": int(series.sum()),
        "peak": int(series.max()),
        "peak_at": pd.Timestamp(peak_at).to_pydatetime(),
        "latest": int(series.iloc[-1]),
        "latest_at": pd.Timestamp(series.index[-1]).to_pydatetime(),
        "expected_at_peak": expected_at_peak,
    }
