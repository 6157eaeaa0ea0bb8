"""Webhook management over the API, for token holders only, each seeing their own."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from reports.tokens import token_create
from webhooks.models import Subscription

URL = "/api/v1/webhooks/"


@pytest.fixture
def other(db, django_user_model):
    client = APIClient()
    user = django_user_model.objects.create_user("rival")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user, name='rival')[1]}")
    return client


def test_it_needs_a_token(api, db):
    assert api.get(URL).status_code == 401
    assert api.post(URL, {"url": "http://127.0.0.1:9/hook"}, format="json").status_code == 401


def test_a_subscriber_creates_lists_updates_and_deletes_a_subscription(partner, other, tesla):
    response = partner.post(
        URL,
        {"url": "http://127.0.0.1:9/hook", "services": ["tesla"], "regions": ["EU"], "min_level": "problems"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["secret"].startswith("whsec_")  # shown once
    assert (created["services"], created["regions"], created["min_level"]) == (["tesla"], ["EU"], "problems")
    listing = partner.get(URL).json()
    assert [s["id"] for s in listing["results"]] == [created["id"]]
    assert "secret" not in listing["results"][0]
    assert other.get(URL).json()["results"] == []
    assert other.get(f"{URL}{created['id']}/").status_code == 404
    patched = partner.patch(f"{URL}{created['id']}/", {"events": ["incident.resolved"]}, format="json")
    assert patched.json()["events"] == ["incident.resolved"]
    rotated = partner.post(f"{URL}{created['id']}/rotate-secret/").json()["secret"]
    assert rotated != created["secret"] == created["secret"]
    assert Subscription.objects.get().secret == rotated
    assert partner.get(f"{URL}{created['id']}/deliveries/").json()["results"] == []
    assert partner.delete(f"{URL}{created['id']}/").status_code == 204
    assert not Subscription.objects.exists()


def test_bad_subscriptions_are_refused(partner, tesla):
    for body in [
        {"url": "ftp://127.0.0.1/hook"},
        {"url": "http://127.0.0.1:9/", "regions": ["MARS"]},
        {"url": "http://127.0.0.1:9/", "events": ["incident.exploded"]},
        {"url": "http://127.0.0.1:9/", "services": ["nope"]},
        {"url": "http://127.0.0.1:9/", "secret": "short"},
    ]:
        assert partner.post(URL, body, format="json").status_code == 400, body
    with override_settings(TREMOR_WEBHOOK_ALLOW_PRIVATE_TARGETS=False):
        response = partner.post(URL, {"url": "http://127.0.0.1:9/hook"}, format="json")
    assert response.status_code == 400 and "non-public" in str(response.json())
    # A NUL in a service slug is named as such (PostgreSQL could not even look it up; schemathesis found it).
    response = partner.post(URL, {"url": "http://127.0.0.1:9/", "services": ["tes\u0000la"]}, format="json")
    assert response.status_code == 400 and response.json()["services"] == ["Null characters are not allowed."]
