"""The tick's profiles survive a Redis flush: stored in the database too, read back instead of refitted."""

import logging
import pickle
import threading
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import profiles, snapshots, tick
from analytics.bucketing import bucket_range
from analytics.core.detection import TREMOR_CONFIG
from analytics.core.refit import grid_point, refit_offset
from analytics.models import ProfileSnapshot, ServiceStatus
from analytics.selectors import slice_rows
from reports.models import Report
from reports.services import service_create

SLICES = [("FR", "EU", "503", "climate"), ("US", "NA", "500", "app-login"), ("DE", "EU", "none", "climate")]


def _refit_point(service_id: int, moment: str | pd.Timestamp) -> pd.Timestamp:
    """The service's latest refit point at or before `moment`."""
    return grid_point(pd.Timestamp(moment), TREMOR_CONFIG, refit_offset(service_id, TREMOR_CONFIG))


@pytest.fixture
def fits(monkeypatch):
    """The refit points fit_service was asked for (it still fits)."""
    asked = []
    real = profiles.fit_service

    def fit_service(**kwargs) -> profiles.GridProfiles:
        asked.append(kwargs["at"])
        return real(**kwargs)

    monkeypatch.setattr(profiles, "fit_service", fit_service)
    return asked


@pytest.fixture
def service(db):
    return service_create(slug="tesla", name="Tesla", features=["climate", "app-login"])


@pytest.fixture
def history(service):
    """Three days of reports before `end`, half an hour after one of the service's refit points."""
    at = _refit_point(service.id, "2024-03-04 15:00Z")
    end = at + pd.Timedelta(minutes=30)
    features = {f.slug: f for f in service.features.all()}
    rows = []
    for k, minute in enumerate(pd.date_range(end - pd.Timedelta(days=3), end, freq="4min", inclusive="left")):
        country, region, code, feature = SLICES[k % len(SLICES)]
        rows.append(
            Report(service=service, feature=features[feature], code=code, country=country, region=region,
                   observed_at=minute, received_at=minute, source="import")
        )  # fmt: skip
    Report.objects.bulk_create(rows, batch_size=2000)
    bucket_range(start=end - pd.Timedelta(days=3), end=end, services=[service.slug])
    return end


def _scores(service_id: int, end: pd.Timestamp) -> tick.Scored:
    rows = slice_rows(service_ids=[service_id], start=end - pd.Timedelta(minutes=profiles.WINDOW), end=end)
    return tick.score_window(service_id=service_id, rows=rows, end=end)


def _assert_same_scores(a: tick.Scored, b: tick.Scored) -> None:
    assert a.keys == b.keys and (a.index == b.index).all()
    for field in ("counts", "expected", "level", "evidence", "elevated"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_after_a_redis_flush_the_tick_reads_the_profiles_from_the_database(service, history, fits):
    fresh = _scores(service.id, history)
    assert len(fresh.keys) > 5 and fresh.expected.min() > 0
    # The window reaches back 90 minutes, over the refit point half an hour ago: two profiles.
    assert len(fits) == 2 and ProfileSnapshot.objects.count() == 2

    cache.clear()
    _assert_same_scores(_scores(service.id, history), fresh)
    assert len(fits) == 2

    # ... and put them back into Redis: without the database rows, still no fit.
    ProfileSnapshot.objects.all().delete()
    _assert_same_scores(_scores(service.id, history), fresh)
    assert len(fits) == 2


def test_the_first_tick_after_a_flush_evaluates_without_fitting(service, history, fits):
    ServiceStatus.objects.create(service=service, evaluated_at=history - pd.Timedelta(minutes=5))
    assert tick.run_tick(service_ids=[service.id], now=history - pd.Timedelta(minutes=3) + pd.Timedelta(seconds=5))
    fitted = len(fits)
    cache.clear()
    assert tick.run_tick(service_ids=[service.id], now=history + pd.Timedelta(seconds=5)) == 3
    assert len(fits) == fitted


def test_after_a_flush_a_batch_reads_its_stored_profiles_in_one_query(service, history, fits):
    quiet = service_create(slug="quiet", name="Quiet")  # no reports: empty profiles, stored all the same
    now = history + pd.Timedelta(seconds=5)
    tick.run_tick(service_ids=[service.id, quiet.id], now=now)
    fitted = len(fits)
    cache.clear()
    ServiceStatus.objects.update(evaluated_at=history - pd.Timedelta(minutes=3))
    with CaptureQueriesContext(connection) as queries:
        assert tick.run_tick(service_ids=[service.id, quiet.id], now=now) == 4
    assert len(fits) == fitted
    assert len([q for q in queries if "analytics_profilesnapshot" in q["sql"]]) == 1


@pytest.fixture
def version_reset():
    snapshots.profile_version.cache_clear()
    yield
    snapshots.profile_version.cache_clear()


def test_a_changed_config_or_format_ignores_the_old_snapshots(service, history, fits, monkeypatch, version_reset):
    at = _refit_point(service.id, history)
    profiles.cached_profiles(service_id=service.id, at=at)
    other = replace(TREMOR_CONFIG, min_excess=TREMOR_CONFIG.min_excess + 1)
    assert snapshots.profile_version(other) != snapshots.profile_version(TREMOR_CONFIG)

    cache.clear()
    profiles.cached_profiles(service_id=service.id, at=at, config=other)
    assert fits == [at, at]

    monkeypatch.setattr(snapshots, "FORMAT", snapshots.FORMAT + 1)
    snapshots.profile_version.cache_clear()
    cache.clear()
    profiles.cached_profiles(service_id=service.id, at=at)
    assert fits == [at, at, at]
    assert ProfileSnapshot.objects.filter(service=service, at=at).values("version").distinct().count() == 3


def test_an_unreadable_snapshot_is_fitted_again_and_replaced(service, history, fits, caplog):
    fresh = _scores(service.id, history)
    ProfileSnapshot.objects.update(blob=b"\x80\x04not a pickle")
    cache.clear()
    with caplog.at_level(logging.WARNING, logger="analytics.profiles"):
        _assert_same_scores(_scores(service.id, history), fresh)
    assert len(fits) == 4
    assert "unreadable profiles" in caplog.text
    for row in ProfileSnapshot.objects.all():  # replaced: the next flush reads them again
        assert isinstance(pickle.loads(row.blob), profiles.GridProfiles)

    # An unreadable copy in Redis falls back to the database, then is overwritten.
    version = snapshots.profile_version(TREMOR_CONFIG)
    for at in ProfileSnapshot.objects.values_list("at", flat=True):
        cache.set(f"profiles:{version}:{service.id}:{pd.Timestamp(at).isoformat()}", b"garbage")
    _assert_same_scores(_scores(service.id, history), fresh)
    _assert_same_scores(_scores(service.id, history), fresh)
    assert len(fits) == 4


@pytest.fixture
def quick_fits(monkeypatch):
    """fit_service without the fitting: empty profiles, and the points asked for."""
    asked = []

    def fit_service(*, service_id: int, at: pd.Timestamp, config) -> profiles.GridProfiles:
        asked.append(at)
        return profiles.GridProfiles(at=at, profiles={})

    monkeypatch.setattr(profiles, "fit_service", fit_service)
    return asked


def test_each_service_keeps_its_newest_point_and_the_one_before(service, quick_fits):
    other = service_create(slug="other", name="Other")
    first = _refit_point(service.id, "2024-03-04 12:00Z")
    points = [first + pd.Timedelta(hours=6 * k) for k in range(4)]
    profiles.cached_profiles(service_id=other.id, at=first)
    for at in points:
        profiles.cached_profiles(service_id=service.id, at=at)
    mine = ProfileSnapshot.objects.filter(service=service)
    assert sorted(mine.values_list("at", flat=True)) == points[-2:]
    assert ProfileSnapshot.objects.filter(service=other).count() == 1  # other services keep theirs

    # A chart band fitting an older point (its Redis copy expired) stores nothing the tick will not need.
    cache.clear()
    profiles.cached_profiles(service_id=service.id, at=points[0])
    assert sorted(mine.values_list("at", flat=True)) == points[-2:]


def test_two_workers_storing_the_same_point_at_once_both_succeed(transactional_db, quick_fits, caplog):
    service = service_create(slug="tesla", name="Tesla")
    at = _refit_point(service.id, "2024-03-04 12:00Z")
    together = threading.Barrier(2, timeout=10)
    # Both must miss Redis: neither caches its fit before both have fitted.
    fitted_together = threading.Barrier(2, timeout=10)
    store, fit = snapshots.snapshot_save, profiles.fit_service
    results, errors = [], []

    def fit_together(**kwargs):
        fitted_together.wait()
        return fit(**kwargs)

    def save_together(**kwargs) -> None:
        together.wait()  # both have fitted; both insert now
        store(**kwargs)

    def worker() -> None:
        try:
            results.append(profiles.cached_profiles(service_id=service.id, at=at))
        except Exception as exc:  # pragma: no cover - the failure this test is about
            errors.append(exc)
        finally:
            connection.close()

    with caplog.at_level(logging.WARNING, logger="analytics.profiles"):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(profiles, "snapshot_save", save_together)
            patch.setattr(profiles, "fit_service", fit_together)
            threads = [threading.Thread(target=worker) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
    assert not errors and results == [profiles.GridProfiles(at=at, profiles={})] * 2
    assert quick_fits == [at, at]
    assert "could not store" not in caplog.text
    assert ProfileSnapshot.objects.filter(service=service, at=at).count() == 1


def test_a_broken_snapshot_table_only_costs_a_fit(service, history, fits, caplog):
    ServiceStatus.objects.create(service=service, evaluated_at=history - pd.Timedelta(minutes=3))
    with connection.cursor() as cursor:  # inside the test's transaction: rolled back after it
        cursor.execute("ALTER TABLE analytics_profilesnapshot RENAME TO analytics_profilesnapshot_gone")
    with caplog.at_level(logging.WARNING, logger="analytics.profiles"):
        assert tick.run_tick(service_ids=[service.id], now=history + pd.Timedelta(seconds=5)) == 2
    assert len(fits) == 2
    assert "could not read stored profiles" in caplog.text and "could not store profiles" in caplog.text
    # The tick's own writes went through in the same transaction.
    assert ServiceStatus.objects.get(service=service).evaluated_at == history - pd.Timedelta(minutes=1)
