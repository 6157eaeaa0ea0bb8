"""requirements.txt is the runtime, all pinned and all used; requirements-dev.txt adds the test tools."""

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_CODE = ["analytics", "common", "config", "demo", "official", "ops", "public", "reports", "research", "webhooks"]
TEST_TOOLS = {"pytest", "hypothesis", "schemathesis", "playwright", "ruff", "import-linter", "pytest-django"}
# Used by name rather than imported: commands (gunicorn, supervisord), settings strings and a
# database driver that Django loads; hiredis: redis-py's C reply parser, used whenever installed.
USED_BY_NAME = {"gunicorn", "supervisor", "psycopg", "psycopg-binary", "whitenoise", "django-csp", "plotly",
                "drf-spectacular-sidecar", "python-json-logger", "hiredis"}  # fmt: skip


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-r "):
            continue
        name, sep, version = line.partition("==")
        assert sep and version, f"{path.name}: {line!r} is not pinned"
        out[canonical(name)] = version
    return out


RUNTIME = pins(ROOT / "requirements.txt")
DEV = pins(ROOT / "requirements-dev.txt")


def test_runtime_has_no_test_tools_and_dev_builds_on_it():
    assert not TEST_TOOLS & set(RUNTIME)
    assert TEST_TOOLS <= set(DEV)
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert not set(RUNTIME) & set(DEV)  # each pin in one place


def test_every_runtime_pin_is_used_or_needed_by_another():
    sources = "\n".join(p.read_text() for d in RUNTIME_CODE for p in (ROOT / d).rglob("*.py"))
    imported = set(re.findall(r"^\s*(?:from|import) ([A-Za-z_]\w*)", sources, re.M))
    needed = set()
    for name in RUNTIME:
        for req in metadata.requires(name) or []:
            requirement = Requirement(req)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                needed.add(canonical(requirement.name))
    imported = {canonical(i) for i in imported}
    top_levels = metadata.packages_distributions()  # {"yaml": ["PyYAML"], ...}
    unused = []
    for name in RUNTIME:
        tops = {canonical(t) for t, dists in top_levels.items() if name in {canonical(d) for d in dists}}
        if not tops & imported and name not in needed and name not in USED_BY_NAME:
            unused.append(name)
    assert unused == []


def test_the_installed_versions_are_the_pinned_ones():
    wrong = {n: (v, metadata.version(n)) for n, v in {**RUNTIME, **DEV}.items() if metadata.version(n) != v}
    assert wrong == {}
