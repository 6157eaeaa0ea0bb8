"""The import layers of .importlinter hold, and would catch a wrong-way import.

`./tremor test` runs lint-imports on the tree itself; this checks that the contracts can fail.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "ops", "research", "demo", "public", "webhooks", "official", "analytics", "reports", "common")
LINT = Path(sys.executable).with_name("lint-imports")


def _copy_tree(to: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, to / name, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / ".importlinter", to / ".importlinter")
    return to


def _lint(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache"], cwd=where, capture_output=True, text=True, timeout=120)


@pytest.fixture
def tree(tmp_path):
    return _copy_tree(tmp_path)


def test_the_layers_hold_on_the_tree_as_it_is(tree):
    result = _lint(tree)
    assert result.returncode == 0, result.stdout


def test_intake_importing_the_read_side_breaks_the_app_layers(tree):
    (tree / "reports" / "wrong_way.py").write_text("from public import selectors  # noqa: F401\n")
    result = _lint(tree)
    assert result.returncode == 1
    assert "reports.wrong_way -> public.selectors" in result.stdout


def test_django_in_the_number_core_breaks_its_contract(tree):
    (tree / "analytics" / "core" / "wrong_way.py").write_text("from django.conf import settings  # noqa: F401\n")
    result = _lint(tree)
    assert result.returncode == 1
    assert "analytics.core.wrong_way -> django (l.1)" in result.stdout


def test_official_importing_the_read_side_breaks_the_app_layers(tree):
    # Public reads official (the official status on the pages), never the other way round.
    (tree / "official" / "wrong_way.py").write_text("from public import selectors  # noqa: F401\n")
    result = _lint(tree)
    assert result.returncode == 1 and "official.wrong_way -> public.selectors" in result.stdout
