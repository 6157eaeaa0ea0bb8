"""`nab_evaluate` scores what the product does: its flags are the incident openings of `replay`.

One count series is written twice: as reports (one per count, all of the same
country, code and feature) that `manage.py replay` imports, buckets and
replays, and as a NAB `timestamp,value` CSV of the same per-minute counts. The
service's id puts its refit grid at midnight (analytics.core.refit), where the
NAB series starts, so both fit the same profiles at the same minutes.
"""

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from analytics.core.detection import TREMOR_CONFIG
from analytics.core.refit import refit_offset
from reports.models import Service

START = pd.Timestamp("2024-03-04", tz="UTC")  # a Monday, midnight
DAYS = 6
SERVICE_ID = 360


def counts() -> pd.Series:
    """Six days of a daily rhythm at about 2 reports a minute, a 12x outage on day 4 and a 6x one on day 5."""
    rng = np.random.default_rng(11)
    index = pd.date_range(START, periods=DAYS * 1440, freq="1min")
    hour = index.hour.to_numpy() + index.minute.to_numpy() / 60
    rate = 2.0 * (1.0 + 0.8 * np.sin((hour - 9) / 24 * 2 * np.pi))
    for onset, minutes, mult in (("2024-03-08 10:00", 90, 12.0), ("2024-03-09 19:30", 60, 6.0)):
        at = index.get_loc(pd.Timestamp(onset, tz="UTC"))
        rate[at : at + minutes] *= mult
    return pd.Series(rng.poisson(rate), index=index)


@pytest.mark.django_db
def test_nab_flags_are_the_replays_incident_openings(tmp_path):
    assert refit_offset(SERVICE_ID, TREMOR_CONFIG) == 0  # the premise: this id refits at midnight
    Service.objects.create(id=SERVICE_ID, slug="nabcheck", name="NAB check")
    series = counts()
    minutes = series.index.repeat(series.to_numpy())
    reports = pd.DataFrame({
        "observed_at": (minutes + pd.Timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "service": "nabcheck", "country": "DE", "code": "503", "feature": "login",
    })  # fmt: skip
    reports.to_csv(tmp_path / "reports.csv", index=False)
    with contextlib.redirect_stderr(io.StringIO()):
        call_command("replay", str(tmp_path / "reports.csv"), "--create-services",
                     "--output", str(tmp_path / "incidents.json"), stdout=io.StringIO())  # fmt: skip
    incidents = json.loads((tmp_path / "incidents.json").read_text())["incidents"]
    opened = {pd.Timestamp(i["detected_at"]) for i in incidents}

    data = tmp_path / "nab"
    data.mkdir()
    pd.DataFrame({"timestamp": series.index.strftime("%Y-%m-%d %H:%M:%S"), "value": series.to_numpy()}).to_csv(
        data / "series.csv", index=False
    )
    (tmp_path / "windows.json").write_text(json.dumps({"series.csv": [["2024-03-08 10:00:00", "2024-03-08 12:00:00"]]}))
    with contextlib.redirect_stderr(io.StringIO()):
        call_command("nab_evaluate", "--data", str(data), "--windows", str(tmp_path / "windows.json"),
                     "--flags-out", str(tmp_path / "flags.json"), stdout=io.StringIO())  # fmt: skip
    flagged = {pd.Timestamp(t, tz="UTC") for t in json.loads((tmp_path / "flags.json").read_text())["series.csv"]}

    assert len(opened) >= 2  # both outages open an incident: the comparison is not of two empty sets
    assert flagged == opened
