"""`Idempotency-Key` on bulk intake: a retry within 24 h gets the first answer and stores nothing."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from reports.models import IdempotencyKey, Report

BULK = "/api/v1/reports/bulk/"
ITEM = {"service": "tesla", "feature": "climate", "code": "503", "country": "FR"}
BATCH = {"reports": [ITEM] * 3}


def _bulk(client, body=BATCH, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(BULK, body, format="json", **headers)


def test_a_retry_with_the_same_key_returns_the_first_answer_and_stores_nothing(partner, tesla):
    key = str(uuid.uuid4())
    first = _bulk(partner, key=key)
    assert first.status_code == 201 and first.json()["created"] == 3
    again = _bulk(partner, key=key)
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Report.objects.count() == 3


def test_without_a_key_a_retry_stores_again(partner, tesla):
    assert _bulk(partner).status_code == 201 and _bulk(partner).status_code == 201
    assert Report.objects.count() == 6


def test_a_new_key_stores_a_new_batch(partner, tesla):
    assert _bulk(partner, key="a").status_code == 201 and _bulk(partner, key="b").status_code == 201
    assert Report.objects.count() == 6


def test_the_same_key_with_another_body_is_a_422_and_stores_nothing(partner, tesla):
    assert _bulk(partner, key="k1").status_code == 201
    other = _bulk(partner, {"reports": [{**ITEM, "country": "DE"}]}, key="k1")
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
    assert Report.objects.count() == 3


def test_a_refused_batch_is_not_remembered(partner, tesla):
    bad = {"reports": [{**ITEM, "country": "XX"}]}
    assert _bulk(partner, bad, key="k2").status_code == 400
    assert _bulk(partner, bad, key="k2").status_code == 400  # validated again, not replayed
    assert _bulk(partner, {"reports": [ITEM]}, key="k2").status_code == 201
    assert Report.objects.count() == 1


def test_keys_belong_to_one_token(partner, tesla, django_user_model):
    from rest_framework.test import APIClient

    from reports.tokens import token_create

    other = APIClient()
    user = django_user_model.objects.create_user("second")
    other.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user, name='t')[1]}")
    assert _bulk(partner, key="shared").status_code == 201
    assert _bulk(other, key="shared").status_code == 201
    assert Report.objects.count() == 6


def test_a_key_older_than_24_hours_is_forgotten(partner, tesla):
    assert _bulk(partner, key="old").status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    response = _bulk(partner, key="old")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Report.objects.count() == 6
    assert IdempotencyKey.objects.count() == 1  # the expired row was pruned


@pytest.mark.parametrize("key", ["", " ", "a b", "x" * 256, "é"])
def test_a_malformed_key_is_a_400_naming_the_header(partner, tesla, key):
    response = _bulk(partner, key=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert Report.objects.count() == 0
