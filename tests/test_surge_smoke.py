"""The surge (bench/surge.py) in its short version: `bench/run --smoke --only surge` on a real stack.

5 services, 2 hours of ordinary reports, 3 s of the surge with page reads. Speed is not
judged here; the accounting is, and must hold at any speed: every 201 is one stored
row once the flusher has drained the log, nothing stored twice, nothing answered
other than 201 (intake) and 200 (pages). The full version: `bench/run --only surge`.
"""

import json

import pytest

from tests.support.bench import run_bench
from tests.support.servers import once_per_suite_run


@pytest.fixture(scope="module")
def figures(tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("surge") / "results.json"
    run_bench("--smoke", "--only", "surge", output=out, timeout=180)
    return {f["name"]: f for f in json.loads(out.read_text())}


@once_per_suite_run("brings its own PostgreSQL, Redis, gunicorn and flusher")
def test_every_201_of_the_surge_is_one_stored_row(figures):
    books = figures["surge.rows_stored_vs_201"]
    assert books["reference"] > 0 and books["value"] == books["reference"], books
    assert books["pass"] is True, books
    assert figures["surge.duplicate_rows"]["value"] == 0
    assert figures["surge.answered_direct_insert"]["value"] == 0  # acknowledged from the log, not INSERTed


@once_per_suite_run("brings its own PostgreSQL, Redis, gunicorn and flusher")
def test_the_surge_mixes_intake_and_page_reads_and_reports_both(figures):
    assert figures["surge.errors_and_other_statuses"]["value"] == 0
    assert figures["surge.normal_rate"]["value"] > 0
    # The surge's rate is 100x the measured normal rate (or the capacity, when that is less).
    assert figures["surge.intake.requests_per_s"]["reference"] == pytest.approx(
        100 * figures["surge.normal_rate"]["value"], rel=0.01
    )
    for name in ("surge.intake.requests_per_s", "surge.pages.requests_per_s", "surge.intake.p99", "surge.pages.p99"):
        assert figures[name]["value"] > 0, figures[name]
    assert figures["surge.intake.p50"]["value"] <= figures["surge.intake.p99"]["value"]
    assert figures["surge.flusher_lag_max"]["value"] >= figures["surge.flusher_lag_at_end"]["value"] >= 0
