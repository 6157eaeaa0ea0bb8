"""Where the NAB data is, for the tests: NAB_DIR, else ../shared/nab beside the repository.

Missing on a developer's machine: the test is skipped with the path it looked at. Missing or
unreadable where CI=true (CI lays ../shared out beside the clone): the test fails, so a broken
copy can never pass as "skipped".
"""

import os
from pathlib import Path

import pytest

from research.nab import default_nab_dir

NAB = default_nab_dir()
DATA = NAB / "data" / "realTweets"
WINDOWS = NAB / "labels" / "windows.json"
ANCHORS = NAB / "anchors" / "twitterADVec.flags.json"


def _unreadable(path: Path) -> bool:
    try:
        return not (any(path.iterdir()) if path.is_dir() else path.read_bytes())
    except OSError:
        return True


def require_nab(*paths: Path) -> None:
    bad = [str(p) for p in paths if _unreadable(p)]
    if not bad:
        return
    message = f"NAB data not readable: {', '.join(bad)} (expected ../shared/nab beside the repository, or NAB_DIR)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)
