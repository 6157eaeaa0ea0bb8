import json

import pytest

from reports.models import Report

URL = "/api/v1/reports/"


def body(**overrides):
    return {"service": "tesla", "feature": "remote-unlock", "code": "503", "country": "FR", **overrides}


def test_it_creates_a_report(api, tesla):
    response = api.post(URL, body(comment="Sentinel mode says 503"), format="json", HTTP_USER_AGENT="app/1")
    assert response.status_code == 201
    data = response.json()
    assert data["counted"] is True
    assert (data["service"], data["feature"], data["code"], data["country"], data["region"]) == (
        "tesla",
        "remote-unlock",
        "503",
        "FR",
        "EU",
    )
    report = Report.objects.get(id=data["id"])
    assert report.source == "api"
    assert report.comment == "Sentinel mode says 503"
    assert report.observed_at == report.received_at


def test_it_never_stores_the_client_address(api, tesla):
    api.post(URL, body(), format="json", REMOTE_ADDR="203.0.113.7")
    report = Report.objects.get()
    assert len(report.fingerprint) == 32
    assert "203.0.113.7" not in report.fingerprint
    assert all("203.0.113" not in str(value) for value in Report.objects.values().get().values())


def test_it_accepts_other_for_every_service(api, tesla):
    response = api.post(URL, body(feature="other"), format="json")
    assert response.status_code == 201


def test_it_accepts_a_numeric_code(api, tesla):
    response = api.post(URL, body(code=503), format="json")
    assert response.status_code == 201
    assert response.json()["code"] == "503"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"service": "nope"}, "service"),
        ({"feature": "warp-drive"}, "feature"),
        ({"country": "XX"}, "country"),
        ({"country": "FRA"}, "country"),
        ({"code": "5 03"}, "code"),
        ({"code": "x" * 33}, "code"),
        ({"comment": "x" * 281}, "comment"),
        ({"service": 12}, "service"),
        ({"country": ["FR"]}, "country"),
        ({"feature": None}, "feature"),
        ({"comment": {"a": 1}}, "comment"),
    ],
)
def test_bad_input_gets_a_400_naming_the_field(api, tesla, overrides, field):
    response = api.post(URL, body(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Report.objects.exists()


@pytest.mark.parametrize("missing", ["service", "feature", "code", "country"])
def test_required_fields_are_named(api, tesla, missing):
    data = body()
    del data[missing]
    response = api.post(URL, data, format="json")
    assert response.status_code == 400
    assert response.json()[missing] == ["This field is required."]


def test_a_body_that_is_not_an_object_gets_a_400(api, tesla):
    response = api.post(URL, json.dumps([1, 2]), content_type="application/json")
    assert response.status_code == 400


def test_malformed_json_gets_a_400(api, tesla):
    response = api.post(URL, '{"service": "tesla",', content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_invalid_utf8_gets_a_400(api, tesla):
    response = api.post(URL, b'{"service": "\xff\xfe"}', content_type="application/json")
    assert response.status_code == 400


def test_a_body_over_64_kib_gets_a_413(api, tesla):
    response = api.post(URL, body(comment="x" * (65 * 1024)), format="json")
    assert response.status_code == 413


def test_html_in_a_comment_is_stored_inert(api, tesla):
    response = api.post(URL, body(comment="<script>alert(1)</script>"), format="json")
    assert response.status_code == 201
    assert Report.objects.get().comment == "<script>alert(1)</script>"


def test_an_inactive_service_is_unknown(api, tesla):
    tesla.active = False
    tesla.save()
    from reports.catalog import catalog

    catalog.invalidate()
    response = api.post(URL, body(), format="json")
    assert response.status_code == 400
    assert "service" in response.json()


def test_the_fast_insert_stores_what_save_would(api, tesla):
    # report_submit INSERTs without the ORM's compiler (reports/services.py::_insert_one):
    # the row must be the one save() writes, on both vendors (timestamps, text, ids).
    response = api.post(URL, body(comment="naïve « 503 » ✓"), format="json", HTTP_USER_AGENT="app/2")
    fast = Report.objects.get(id=response.json()["id"])
    saved = Report(**{f.attname: getattr(fast, f.attname) for f in Report._meta.concrete_fields if not f.primary_key})
    saved.save(force_insert=True)
    fields = [f.attname for f in Report._meta.concrete_fields if not f.primary_key]
    assert Report.objects.values(*fields).get(id=fast.id) == Report.objects.values(*fields).get(id=saved.id)
    assert fast.received_at.isoformat().replace("+00:00", "Z")[:19] == response.json()["received_at"][:19]
    assert Report.objects.filter(received_at=fast.received_at).count() == 2  # exact timestamps, both ways
