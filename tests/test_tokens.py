"""API tokens: shown once, stored hashed, revocable; per-token and anonymous rate limits (Redis)."""

import hashlib
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from rest_framework.test import APIClient

from reports.models import ApiToken
from reports.tokens import token_create, token_revoke

BULK = "/api/v1/reports/bulk/"
ITEM = {"service": "tesla", "feature": "climate", "code": "500", "country": "US"}


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def holder(db, django_user_model):
    return django_user_model.objects.create_user("partner")


def test_only_the_hash_and_a_short_prefix_are_stored(holder):
    token, key = token_create(user=holder, name="poller")
    assert key.startswith(f"trm_{token.prefix}_") and len(key) > 40
    row = ApiToken.objects.get()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(ApiToken.objects.values().get())


def test_a_token_authenticates_bulk_intake_until_it_is_revoked(holder, tesla):
    token, key = token_create(user=holder, name="intake")
    assert client_for(key).post(BULK, {"reports": [ITEM]}, format="json").status_code == 201
    assert client_for("Bearer-less-garbage").post(BULK, {"reports": [ITEM]}, format="json").status_code == 401
    assert client_for(key[:-1] + "x").post(BULK, {"reports": [ITEM]}, format="json").status_code == 401
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token_revoke(prefix=token.prefix)
    response = client_for(key).post(BULK, {"reports": [ITEM]}, format="json")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]


def test_the_management_command_creates_lists_and_revokes(db):
    out, err = StringIO(), StringIO()
    args = ["create", "--user", "wire", "--name", "wire desk", "--create-user"]
    call_command("api_token", *args, stdout=out, stderr=err)
    key = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert key.startswith("trm_") and token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert "not shown again" in err.getvalue()
    listing = StringIO()
    call_command("api_token", "list", stdout=listing)
    assert token.prefix in listing.getvalue() and key not in listing.getvalue() and "active" in listing.getvalue()
    call_command("api_token", "revoke", token.prefix, stdout=StringIO())
    assert not ApiToken.objects.get().is_active


def test_the_admin_shows_a_new_key_once(admin_client, holder):
    response = admin_client.post(
        "/admin/reports/apitoken/add/", {"user": holder.pk, "name": "from admin", "read_rate": "", "bulk_rate": ""},
        follow=True,
    )  # fmt: skip
    token = ApiToken.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    (message,) = [m for m in shown if "trm_" in m]
    key = message.rsplit(" ", 1)[1]
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in admin_client.get(f"/admin/reports/apitoken/{token.pk}/change/").content.decode()


def test_reads_are_limited_per_token_with_retry_after(holder, tesla):
    _, slow_key = token_create(user=holder, name="small", read_rate="3/min")
    _, other_key = token_create(user=holder, name="default")
    statuses = [client_for(slow_key).get("/api/v1/services/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client_for(slow_key).get("/api/v1/services/tesla/")
    assert response.status_code == 429 and 0 < int(response["Retry-After"]) <= 60
    assert client_for(other_key).get("/api/v1/services/").status_code == 200


def test_anonymous_reads_are_limited_per_client(api, tesla):
    with override_settings(
        REST_FRAMEWORK={
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"read_anon": "2/min", "read_token": "600/min"},
        }
    ):
        statuses = [api.get("/api/v1/services/", REMOTE_ADDR="192.0.2.1").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert api.get("/api/v1/services/", REMOTE_ADDR="192.0.2.2").status_code == 200


def test_bulk_intake_is_limited_per_token(holder, tesla):
    _, key = token_create(user=holder, name="bulk", bulk_rate="2/min")
    statuses = [client_for(key).post(BULK, {"reports": [ITEM]}, format="json").status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
