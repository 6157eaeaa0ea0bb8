"""Chart builders: plotly figures valid against plotly's schema, CSV and text alternatives, no browser."""

import csv
import io

import pandas as pd
import plotly.graph_objects as go
import pytest
from django.utils import translation

from public import charts


@pytest.fixture(autouse=True)
def _english():
    # Requests with other languages leave theirs active in the thread; these tests read English.
    with translation.override("en"):
        yield


def counts(values, start="2026-02-14T00:00Z", freq="15min"):
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq=freq), dtype="int64")


def band_for(series, expected=10.0, upper=20.0):
    return pd.DataFrame({"expected": expected, "upper": upper}, index=series.index)


def test_the_timeline_draws_reports_over_the_normal_band_and_is_a_valid_plotly_figure():
    s = counts([3, 5, 80, 120, 7])
    fig = charts.timeline_figure(s, interval="15m", band=band_for(s))
    go.Figure(fig)  # raises on any property plotly does not know
    band, typical, reports = fig["data"]
    assert band["fill"] == "tozeroy" and band["y"] == [20.0] * 5
    assert typical["y"] == [10.0] * 5
    assert reports["y"] == [3, 5, 80, 120, 7]
    assert reports["x"][0] == "2026-02-14T00:00:00Z"
    assert fig["layout"]["yaxis"]["title"]["text"] == "Reports per 15 minutes"
    assert fig["layout"]["xaxis"]["title"]["text"] == "Time (UTC)"


def test_buckets_without_a_baseline_are_left_out_of_the_band():
    s = counts([1, 2, 3, 4])
    band = band_for(s).iloc[2:]
    fig = charts.timeline_figure(s, interval="15m", band=band)
    assert fig["data"][0]["x"] == fig["data"][2]["x"][2:]


def test_without_a_band_only_the_reports_are_drawn():
    fig = charts.timeline_figure(counts([1, 2]), interval="15m", band=None)
    assert [t["name"] for t in fig["data"]] == ["Reports"]


def test_incident_phases_are_shaded_and_clipped_to_the_chart():
    s = counts([1] * 8)  # 00:00 .. 02:00
    incidents = [
        {"status": "resolved", "phases": [{"started_at": "2026-02-13T23:00Z", "ended_at": "2026-02-14T00:30Z"}]},
        {"status": "ongoing", "phases": [{"started_at": "2026-02-14T01:00Z", "ended_at": None}]},
        {"status": "resolved", "phases": [{"started_at": "2026-02-15T01:00Z", "ended_at": "2026-02-15T02:00Z"}]},
    ]
    fig = charts.timeline_figure(s, interval="15m", incidents=incidents, end=pd.Timestamp("2026-02-14T01:40Z"))
    go.Figure(fig)
    shapes = fig["layout"]["shapes"]
    assert [(sh["x0"], sh["x1"]) for sh in shapes] == [
        ("2026-02-14T00:00:00Z", "2026-02-14T00:30:00Z"),
        ("2026-02-14T01:00:00Z", "2026-02-14T01:40:00Z"),
    ]
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["Past incident", "Ongoing incident"]


def test_the_map_keys_countries_by_iso3_and_drops_unknown_codes():
    rows = [{"value": "FR", "count": 40, "share": 40.0}, {"value": "DE", "count": 30, "share": 30.0},
            {"value": "ZZ", "count": 5, "share": 5.0}]  # fmt: skip
    fig = charts.map_figure(rows)
    go.Figure(fig)
    trace = fig["data"][0]
    assert trace["type"] == "choropleth" and trace["locationmode"] == "ISO-3"
    assert trace["locations"] == ["FRA", "DEU"] and trace["z"] == [40, 30]
    assert trace["text"] == ["France", "Germany"]


def test_breakdown_bars_put_the_largest_on_top_with_names_and_shares():
    rows = [{"value": "503", "count": 90, "share": 90.0}, {"value": "none", "count": 10, "share": 10.0}]
    fig = charts.breakdown_figure(rows, labels={"none": "no error code"})
    go.Figure(fig)
    bar = fig["data"][0]
    assert bar["y"] == ["no error code", "503"]  # plotly draws the first category at the bottom
    assert bar["x"] == [10, 90] and bar["text"] == ["10.0 %", "90.0 %"]


def test_the_timeline_csv_has_one_row_per_bucket_with_the_band():
    s = counts([3, 0, 7])
    band = band_for(s).iloc[1:]
    rows = list(csv.reader(io.StringIO(charts.timeline_csv(s, band))))
    assert rows[0] == ["bucket_start_utc", "reports", "expected", "upper"]
    assert rows[1] == ["2026-02-14T00:00:00Z", "3", "", ""]
    assert rows[3] == ["2026-02-14T00:30:00Z", "7", "10.0", "20.0"]
    assert len(rows) == 4


def test_the_breakdown_csv_lists_values_counts_and_shares():
    text = charts.breakdown_csv([{"value": "EU", "count": 9, "share": 90.0}], dimension="region")
    assert text == "region,reports,share_percent\nEU,9,90.0\n"


def test_the_sparkline_scales_to_its_box():
    points = charts.sparkline_points(counts([0, 5, 10]), width=100, height=20).split()
    assert len(points) == 3
    assert points[0] == "0.0,19.0" and points[2] == "100.0,1.0"
    assert charts.sparkline_points(counts([])) == ""


def test_timeline_facts_name_the_peak_and_the_typical_level_then():
    s = counts([3, 50, 7])
    facts = charts.timeline_facts(s, band_for(s, expected=4.0))
    assert facts["total"] == 60 and facts["peak"] == 50 and facts["expected_at_peak"] == 4.0
    assert facts["peak_at"].isoformat() == "2026-02-14T00:15:00+00:00"


@pytest.mark.parametrize(("language", "separators", "label"), [
    ("fr", ",\u202f", "Signalements par heure"),
    ("de", ",.", "Meldungen pro Stunde"),
])  # fmt: skip
def test_labels_and_number_separators_follow_the_language(language, separators, label):
    with translation.override(language):
        fig = charts.timeline_figure(counts([1, 2], freq="1h"), interval="1h", language=language)
    assert fig["layout"]["separators"] == separators
    assert fig["layout"]["yaxis"]["title"]["text"] == label


def test_the_incident_peak_is_marked_on_its_bucket():
    s = counts([1, 9, 30, 4])
    fig = charts.timeline_figure(s, interval="15m", peak_at=pd.Timestamp("2026-02-14T00:37Z"))
    go.Figure(fig)
    (peak,) = fig["layout"]["annotations"]
    assert (peak["x"], peak["y"], peak["text"]) == ("2026-02-14T00:30:00Z", 30, "Peak")
