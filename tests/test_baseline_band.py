from datetime import timedelta

import numpy as np
from django.utils import timezone

from analytics.band import baseline_band
from analytics.bucketing import bucket_range
from analytics.selectors import timeseries
from demo import scenarios
from reports.imports import import_rows


def test_the_band_follows_the_time_of_day_and_covers_ordinary_counts(tesla):
    now = timezone.now()
    # One time zone: the whole fleet's countries spread over the clock flatten the total's daily
    # cycle to a min/max of about 0.5, and the check below then passed or failed with the date.
    frame = scenarios.background(
        service="tesla", start=now - timedelta(days=5), end=now, seed=3, weights={"DE": 0.6, "FR": 0.4}
    )
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
