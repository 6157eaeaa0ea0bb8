"""docs/api.md cannot rot: its ```sh test and ```python test blocks run against a live server."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from analytics.events import publish_incident_event
from reports.tokens import token_create
from tests.support.receiver import Receiver
from tests.test_webhooks import make_incident
from webhooks import services
from webhooks.models import Event, Subscription

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "api.md"
BLOCK = re.compile(r"^```(sh|python) test\n(.*?)^```$", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    return BLOCK.findall(GUIDE.read_text())


def test_the_guide_has_tested_examples_of_each_kind():
    kinds = [kind for kind, _ in blocks()]
    assert kinds.count("sh") >= 5 and kinds.count("python") >= 4


@pytest.fixture
def guide_env(live_server, tesla, django_user_model):
    user = django_user_model.objects.create_user("guide-reader")
    receiver = Receiver().start()
    env = {
        **os.environ,
        "TREMOR": live_server.url,
        "TREMOR_TOKEN": token_create(user=user, name="guide")[1],
        "WEBHOOK_URL": receiver.url("/tremor"),
    }
    yield env, receiver
    receiver.stop()


def run(kind: str, code: str, env: dict) -> subprocess.CompletedProcess:
    command = ["bash", "-euo", "pipefail", "-c", code] if kind == "sh" else [sys.executable, "-c", code]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def test_every_example_runs_against_a_live_server(guide_env):
    env, receiver = guide_env
    for index, (kind, code) in enumerate(blocks()):
        result = run(kind, code, env)
        assert result.returncode == 0, f"block {index} ({kind}) failed:\n{code}\n{result.stdout}\n{result.stderr}"
    # The curl subscription in the guide created a real subscription, and the bulk example stored reports.
    sub = Subscription.objects.get()
    assert sub.url == env["WEBHOOK_URL"] and list(sub.services.values_list("slug", flat=True)) == ["tesla"]


def test_the_guides_signature_check_accepts_a_real_delivery_and_nothing_else(guide_env, tesla, tmp_path):
    env, receiver = guide_env
    (code,) = [c for kind, c in blocks() if kind == "python" and "def verify_tremor_signature" in c]
    owner = get_user_model().objects.get(username="guide-reader")
    sub = Subscription.objects.create(owner=owner, url=receiver.url("/tremor"), secret=services.new_secret())
    incident = make_incident(tesla)
    publish_incident_event(incident_id=incident.pk, event="incident.opened")
    services.fan_out_event(event_id=Event.objects.get().pk)
    services.deliver_pending(subscription_id=sub.pk, incident_id=incident.pk)
    (delivery,) = receiver.at("/tremor")
    (tmp_path / "body").write_bytes(delivery.body)
    harness = f"""
from pathlib import Path
body = Path({str(tmp_path / "body")!r}).read_bytes()
header = {delivery.headers["Tremor-Signature"]!r}
assert verify_tremor_signature({sub.secret!r}, body, header)
assert not verify_tremor_signature("whsec_other", body, header)
assert not verify_tremor_signature({sub.secret!r}, body.replace(b"opened", b"resolved"), header)
assert not verify_tremor_signature({sub.secret!r}, body, header, tolerance=-1)
print("verified", {json.loads(delivery.body)["id"]!r})
"""
    result = run("python", code + harness, env)
    assert result.returncode == 0, result.stderr
    assert "verified" in result.stdout
