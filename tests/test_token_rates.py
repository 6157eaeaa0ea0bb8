"""A token's own rates (`read_rate`, `bulk_rate`) are validated where they are typed, and never a 500."""

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from reports.models import ApiToken
from reports.tokens import token_create

BAD_RATES = ["fast", "10", "10/", "/min", "0/min", "-5/min", "10/week", "10/min/x", "1e3/min", "10 /min", "ten/min"]
GOOD_RATES = ["600/min", "10/s", "5/hour", "1000/day", "2/m", "30/sec"]


@pytest.fixture
def holder(db, django_user_model):
    return django_user_model.objects.create_user("partner")


@pytest.mark.parametrize("field", ["read_rate", "bulk_rate"])
@pytest.mark.parametrize("rate", BAD_RATES)
def test_the_admin_refuses_a_malformed_rate_naming_the_field(admin_client, holder, field, rate):
    form = {"user": holder.pk, "name": "typo", "read_rate": "", "bulk_rate": "", field: rate}
    response = admin_client.post("/admin/reports/apitoken/add/", form)
    assert response.status_code == 200  # the form again, with the error
    assert "is not a rate" in response.context["adminform"].form.errors[field][0]
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("rate", GOOD_RATES)
def test_the_admin_accepts_the_rates_drf_understands(admin_client, holder, rate):
    form = {"user": holder.pk, "name": "ok", "read_rate": rate, "bulk_rate": rate}
    assert admin_client.post("/admin/reports/apitoken/add/", form).status_code == 302
    assert ApiToken.objects.get().read_rate == rate


def test_the_command_and_the_service_refuse_a_malformed_rate(holder):
    with pytest.raises(CommandError, match="--read-rate"):
        call_command("api_token", "create", "--user", "partner", "--name", "x", "--read-rate", "lots")
    with pytest.raises(Exception, match="is not a rate"):
        token_create(user=holder, name="x", bulk_rate="10/fortnight")
    assert not ApiToken.objects.exists()


def test_a_malformed_rate_stored_before_validation_falls_back_to_the_default(holder, tesla):
    token, key = token_create(user=holder, name="old")
    ApiToken.objects.filter(pk=token.pk).update(read_rate="lots", bulk_rate="10/")  # as typed into the old admin
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/services/").status_code == 200
    item = {"service": "tesla", "feature": "climate", "code": "500", "country": "US"}
    assert client.post("/api/v1/reports/bulk/", {"reports": [item]}, format="json").status_code == 201
