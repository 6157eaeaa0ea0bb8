"""The NAB data is looked for beside the repository, and its absence fails where CI lays it out."""

import pytest

from research.nab import REPOSITORY, default_nab_dir
from tests.support import nab


def test_the_default_is_shared_nab_beside_the_repository(monkeypatch):
    monkeypatch.delenv("NAB_DIR", raising=False)
    assert default_nab_dir() == REPOSITORY.parent / "shared" / "nab"
    monkeypatch.setenv("NAB_DIR", "/elsewhere/nab")
    assert str(default_nab_dir()) == "/elsewhere/nab"


def test_missing_data_fails_under_ci_and_skips_elsewhere(monkeypatch, tmp_path):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="NAB data not readable"):
        nab.require_nab(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(pytest.fail.Exception):
        nab.require_nab(tmp_path / "empty")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        nab.require_nab(tmp_path / "nope")
