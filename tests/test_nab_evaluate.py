"""manage.py nab_evaluate on the real NAB realTweets data.

The command runs once per module (about 15 s of CPU: 7 files of 15.8k rows);
every check re-derives its numbers through research.nab, none is hard-coded
except the published twitterADVec anchors.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from research.nab import PROFILES, load_series, load_windows, normalised_scores, score_all_profiles
from tests.support.nab import ANCHORS, DATA, WINDOWS, require_nab


@pytest.fixture(autouse=True, scope="module")
def _nab_data():
    # In CI the data sits next to the repository (../shared/nab): missing there is a failure, not a skip.
    require_nab(DATA, WINDOWS)


ROW = re.compile(r"^(\S+\.csv)\s+(\d+)\s+(\d+)\s+(\d+)\s+(-?\d+\.\d{3})\s+(-?\d+\.\d{3})\s+(-?\d+\.\d{3})$")
NORM = re.compile(r"^\s+(\w+): (-?\d+\.\d{2})$")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    flags_path = tmp_path_factory.mktemp("nab") / "flags.json"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        call_command(
            "nab_evaluate", "--data", str(DATA), "--windows", str(WINDOWS), "--flags-out", str(flags_path), stdout=out
        )
    with open(flags_path) as fh:
        flags = json.load(fh)
    return out.getvalue(), err.getvalue(), flags


def parsed(stdout: str) -> tuple[dict, dict]:
    rows, norm = {}, {}
    for line in stdout.splitlines():
        if m := ROW.match(line):
            rows[m[1]] = (int(m[2]), int(m[3]), int(m[4]), *(float(x) for x in m.groups()[4:]))
        elif m := NORM.match(line):
            norm[m[1]] = float(m[2])
    return rows, norm


def rescored(flags: dict) -> dict:
    windows = load_windows(str(WINDOWS))
    return {
        name: score_all_profiles(load_series(str(DATA / name)).index, windows[name], fl) for name, fl in flags.items()
    }


def test_it_prints_a_row_per_file_and_every_profile(run):
    stdout, stderr, flags = run
    csvs = sorted(f for f in os.listdir(DATA) if f.endswith(".csv"))
    rows, norm = parsed(stdout)
    assert sorted(rows) == csvs
    assert list(norm) == list(PROFILES)
    assert sorted(flags) == csvs
    assert all(f"{name}" in stderr for name in csvs)  # progress went to stderr
    assert "[1/7]" not in stdout


def test_flags_are_timestamps_of_each_file(run):
    _, _, flags = run
    for name, fl in flags.items():
        stamps = set(load_series(str(DATA / name)).index.astype(str))
        assert all(isinstance(t, str) for t in fl)
        assert set(fl) <= stamps
        assert fl == sorted(fl)
    assert any(flags.values())


def test_printed_scores_equal_the_scorer_on_the_written_flags(run):
    stdout, _, flags = run
    rows, norm = parsed(stdout)
    results = rescored(flags)
    for name, parts in results.items():
        std = parts["standard"]
        assert rows[name][:3] == (std.tp, std.fn, std.fp)
        assert rows[name][3:] == tuple(float(f"{parts[p].score:.3f}") for p in PROFILES)
    want = normalised_scores(results)
    assert norm == {p: float(f"{want[p]:.2f}") for p in PROFILES}
    assert norm["standard"] > 0  # a detector that finds nothing scores 0


def test_twitter_advec_anchor_reproduces_through_the_same_scorer():
    with open(ANCHORS) as fh:
        norm = normalised_scores(rescored(json.load(fh)))
    assert {p: round(v, 2) for p, v in norm.items()} == {
        "standard": 61.45,
        "reward_low_FP_rate": 37.16,
        "reward_low_FN_rate": 71.13,
    }


def test_missing_inputs_fail_with_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="not a directory"):
        call_command("nab_evaluate", "--data", str(tmp_path / "nope"), "--windows", str(WINDOWS))
    with pytest.raises(CommandError, match="no .csv files"):
        call_command("nab_evaluate", "--data", str(tmp_path), "--windows", str(WINDOWS))
    with pytest.raises(CommandError, match="not a file"):
        call_command("nab_evaluate", "--data", str(DATA), "--windows", str(tmp_path / "windows.json"))
