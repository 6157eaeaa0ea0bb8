import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_production_settings_pass_check_deploy(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "x" * 60 + "production-like-secret-key",
        "ALLOWED_HOSTS": "tremor.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.pop("TREMOR_HTTPS", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_bad_boolean_fails_loudly(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "maybe"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "0"}
    env.pop("SECRET_KEY", None)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    env["DEBUG"] = "1"  # development: a throwaway key is fine
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_tremor_up_generates_the_key_once_and_keeps_it_in_var(tmp_path):
    # The line of `./tremor up` that chooses the key, run twice in a scratch copy of var/.
    line = next(x for x in (ROOT / "tremor").read_text().splitlines() if "export SECRET_KEY=" in x)
    script = f'set -euo pipefail\nPY={sys.executable}\ncd {tmp_path}\n{line.strip()}\necho "key=$SECRET_KEY"\n'
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    runs = [subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True) for _ in range(2)]
    keys = [run.stdout.strip().splitlines()[-1].removeprefix("key=") for run in runs]
    assert all(run.returncode == 0 for run in runs) and len(keys[0]) >= 50
    assert keys[0] == keys[1] == (tmp_path / "var" / "secret_key").read_text().strip()
