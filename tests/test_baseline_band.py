from datetime import timedelta

import numpy as np
from django.utils import timezone

from analytics import scenarios
from analytics.selectors import baseline_band, timeseries
from analytics.services import bucket_range
from reports.imports import import_rows


def test_the_band_follows_the_time_of_day_and_covers_ordinary_counts(tesla):
    now = timezone.now()
    frame = scenarios.background(service="tesla", start=now - timedelta(days=5), end=now, seed=3)
    result = import_rows(frame[scenarios.CSV_COLUMNS].to_dict("records"))
    bucket_range(start=result.start, end=result.end, services=["tesla"])
    start, end = now - timedelta(hours=24), now
    band = baseline_band(service_id=tesla.id, start=start, end=end, interval="1h")
    counts = timeseries(service_id=tesla.id, start=start, end=end, interval="1h")
    assert band.index.equals(counts.index)
    assert (band["upper"] >= band["expected"]).all()
    # A diurnal cycle: the quietest hour is well below the busiest.
    assert band["expected"].min() < 0.5 * band["expected"].max()
    # Ordinary hours sit inside the band (complete hours only; the last one is partial).
    inside = (counts.iloc[:-1] <= band["upper"].iloc[:-1]).mean()
    assert inside >= 0.9
    assert np.corrcoef(band["expected"].iloc[:-1], counts.iloc[:-1])[0, 1] > 0.5


def test_a_service_without_history_has_no_band(tesla):
    now = timezone.now()
    band = baseline_band(service_id=tesla.id, start=now - timedelta(hours=6), end=now, interval="15m")
    assert len(band) in (24, 25) and band["expected"].isna().all()
