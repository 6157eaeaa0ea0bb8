"""The image and the compose file, checked without a Docker engine: they agree with the Procfile
and the runtime requirements. Where an engine answers, the image is also built."""

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ops.supervise import read_procfile

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
# Instructions, with continuation lines joined.
INSTRUCTIONS = [
    (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
    for line in re.sub(r"\\\n\s*", " ", DOCKERFILE).splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]
# Processes that compose runs from an official image instead of the Procfile's command.
FROM_IMAGES = {"redis"}


def _of(kind: str) -> list[str]:
    return [arg for instruction, arg in INSTRUCTIONS if instruction == kind]


def test_compose_runs_every_procfile_process_with_the_same_command():
    services = COMPOSE["services"]
    procfile = read_procfile()
    assert set(procfile) <= set(services)
    for name, command in procfile.items():
        if name in FROM_IMAGES:
            continue
        assert shlex.split(services[name]["command"]) == shlex.split(command), name
        assert services[name]["image"] == "tremor:latest" and services[name]["build"] == "."


def test_compose_has_postgresql_and_redis_and_starts_the_app_once_they_are_healthy():
    services = COMPOSE["services"]
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:")
    for name in ("web", "worker", "webhooks", "beat"):
        needs = services[name]["depends_on"]
        assert needs["postgres"]["condition"] == needs["redis"]["condition"] == "service_healthy"
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://") and env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # no default secret
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]
    assert "/health/ready/" in " ".join(services["web"]["healthcheck"]["test"])


def test_the_dockerfile_installs_the_runtime_requirements_only_and_runs_unprivileged():
    assert re.match(r"python:3\.11-slim-(bookworm|trixie)$", _of("FROM")[0])  # Debian-based
    runs = " ".join(_of("RUN"))
    assert "pip install -r requirements.txt" in runs
    assert "requirements-dev" not in DOCKERFILE
    assert _of("COPY")[0] == "requirements.txt ."  # dependencies cached apart from the code
    # The last USER is not root, and comes after every RUN.
    kinds = [kind for kind, _ in INSTRUCTIONS]
    user = _of("USER")[-1]
    assert user not in {"root", "0"}
    assert f"useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin {user}" in runs
    assert max(i for i, k in enumerate(kinds) if k == "RUN") < max(i for i, k in enumerate(kinds) if k == "USER")


def test_the_dockerfile_serves_the_procfile_web_process_on_its_exposed_port():
    assert _of("EXPOSE") == ["8000"]
    env = " ".join(_of("ENV"))
    assert "TREMOR_BIND=0.0.0.0:8000" in env and "PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus" in env
    assert shlex.split(read_procfile()["web"]) == json.loads(_of("CMD")[0])
    assert "/health/" in _of("HEALTHCHECK")[0]


def test_the_build_context_leaves_out_the_local_state():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var", "staticfiles"} <= set(ignored)


def _engine() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return "no docker client"
    info = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=30)
    return None if info.returncode == 0 else "no Docker engine answers (docker info failed)"


@pytest.mark.skipif(_engine() is not None, reason=f"image not built: {_engine()}")
def test_the_image_builds_and_runs_as_its_unprivileged_user():  # pragma: no cover - needs an engine
    subprocess.run(["docker", "build", "-t", "tremor:test", str(ROOT)], check=True, timeout=1800)
    out = subprocess.run(["docker", "run", "--rm", "tremor:test", "id", "-u"], capture_output=True, text=True)
    assert out.stdout.strip() == "10001"
