"""Hostile input: oversized, deeply nested, malformed, control characters, HTML and SQL.

Every case is either refused with a 4xx or stored as inert text and shown escaped.
"""

import pytest
from django.contrib.auth import get_user_model

from reports.models import Report

URL = "/api/v1/reports/"
BULK = "/api/v1/reports/bulk/"
GOOD = {"service": "tesla", "feature": "climate", "code": "503", "country": "FR"}
FIELDS = ["service", "feature", "code", "country", "comment"]

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
SQL = "'; DROP TABLE reports_report; --"
HOSTILE_TEXT = [
    XSS,
    SQL,
    "1' OR '1'='1",
    "tesla\x00",
    "tesla\x1b[31m",
    "\x07\x08\x7f",
    "\u202etxt.exe",  # right-to-left override
    "﷽" * 20,
    "😀" * 10,
    "A" * 10_000,
    "../../etc/passwd",
    "{{ settings.SECRET_KEY }}",
    "${jndi:ldap://x}",
]


def _post(api, body, path=URL, **extra):
    return api.post(path, body, format="json", **extra)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", HOSTILE_TEXT, ids=range(len(HOSTILE_TEXT)))
def test_hostile_text_in_any_field_is_refused_or_stored_inert(api, tesla, field, value):
    response = _post(api, {**GOOD, field: value}, HTTP_USER_AGENT=f"h-{field}-{hash(value)}")
    assert response.status_code in (201, 400), response.content
    assert response["Content-Type"] == "application/json"
    if response.status_code == 201:
        # Only a comment can carry free text, and it is stored exactly as sent.
        assert field == "comment"
        assert Report.objects.get().comment == value.strip()
    else:
        assert field in response.json()
        assert Report.objects.count() == 0


@pytest.mark.parametrize("value", ["\x00", "\x01", "\x1b", "\x7f"])
def test_control_characters_are_refused(api, tesla, value):
    response = _post(api, {**GOOD, "comment": f"a{value}b"})
    assert response.status_code == 400 and "comment" in response.json()


def test_newlines_and_tabs_in_a_comment_are_fine(api, tesla):
    assert _post(api, {**GOOD, "comment": "line 1\nline 2\r\n\tend"}).status_code == 201


def test_a_lone_surrogate_is_refused_not_a_500(api, tesla):
    body = b'{"service":"tesla","feature":"climate","code":"503","country":"FR","comment":"\\ud800"}'
    response = api.generic("POST", URL, body, content_type="application/json")
    assert response.status_code == 400
    pair = '{"service":"tesla","feature":"climate","code":"503","country":"FR","comment":"\\ud83d\\ude00"}'
    assert api.generic("POST", URL, pair.encode(), content_type="application/json").status_code == 201
    assert Report.objects.get().comment == "😀"


def test_invalid_utf8_is_refused(api, tesla):
    body = b'{"service":"tesla","feature":"climate","code":"503","country":"FR","comment":"\xff\xfe"}'
    response = api.generic("POST", URL, body, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 30_000 + b"]" * 30_000,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b'{"service": "tesla", "feature": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    ],
    ids=["arrays", "objects", "in-a-field"],
)
@pytest.mark.parametrize("path", [URL, BULK])
def test_deeply_nested_json_is_refused_not_a_500(api, partner, tesla, body, path):
    client = partner if path == BULK else api
    response = client.generic("POST", path, body, content_type="application/json")
    assert response.status_code == 400, response.content


WHITESPACE = [" ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "\u3000", " \t\u00a0 ", "\x1c", "\u2028"]


@pytest.mark.parametrize("field", ["service", "country", "feature", "code"])
@pytest.mark.parametrize("value", WHITESPACE, ids=range(len(WHITESPACE)))
def test_a_whitespace_only_field_is_a_missing_field_not_a_500(api, partner, tesla, field, value):
    response = _post(api, {**GOOD, field: value})
    assert response.status_code == 400, response.content
    assert response.json()[field] == ["This field is required."]
    bulk = _post(partner, {"reports": [{**GOOD, field: value}]}, BULK)
    assert bulk.status_code == 400 and field in bulk.json()["items"][0]["errors"]
    assert Report.objects.count() == 0


@pytest.mark.parametrize("depth", [33, 400, 600, 900, 990])
@pytest.mark.parametrize("path", [URL, BULK])
def test_json_nested_hundreds_of_levels_is_refused_not_a_500(api, partner, tesla, depth, path):
    # Deep enough to overflow a recursive walk, shallow enough for the json module to parse.
    client = partner if path == BULK else api
    for body in (b"[" * depth + b"]" * depth, b'{"service":' + b"[" * depth + b"]" * depth + b"}"):
        response = client.generic("POST", path, body, content_type="application/json")
        assert response.status_code == 400, (depth, response.content)
        assert "nested" in response.json()["detail"]
    assert Report.objects.count() == 0


def test_json_nested_as_deep_as_a_bulk_batch_is_fine(partner, tesla):
    assert _post(partner, {"reports": [{**GOOD, "comment": "ok"}]}, BULK).status_code == 201


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b"[]", b'"string"', b"1e999999", b"{", b"{}", b'{"reports": {}}', b"NaN"],
)
def test_malformed_bodies_are_refused(api, partner, tesla, body):
    for client, path in ((api, URL), (partner, BULK)):
        response = client.generic("POST", path, body, content_type="application/json")
        assert 400 <= response.status_code < 500, (path, body, response.content)
    assert Report.objects.count() == 0


def test_oversized_bodies_are_refused_before_they_are_read(api, partner, client, tesla):
    big = {**GOOD, "comment": "x" * 70_000}
    assert _post(api, big).status_code == 413
    huge = {"reports": [{**GOOD, "comment": "x" * 280}] * 4000}  # > 1 MiB
    assert _post(partner, huge, BULK).status_code == 413
    form = {"feature": "climate", "country": "FR", "comment": "x" * 70_000}
    assert client.post("/status/tesla/report/", form).status_code == 413
    assert Report.objects.count() == 0


def test_a_lying_content_length_is_refused(api, tesla):
    response = api.generic("POST", URL, b"{}", content_type="application/json", CONTENT_LENGTH="abc")
    assert response.status_code == 400


def test_unexpected_content_types_are_refused(api, tesla):
    response = api.generic("POST", URL, b"service=tesla", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    response = api.generic("POST", URL, b"<xml/>", content_type="application/xml")
    assert response.status_code == 415


@pytest.mark.parametrize("value", [XSS, SQL, "1' OR '1'='1", "%00", "\x00"])
@pytest.mark.parametrize("param", ["start", "end", "interval", "region", "country", "code", "feature", "dimension"])
def test_hostile_query_parameters_never_500(api, tesla, param, value):
    for path in ("/api/v1/services/tesla/timeseries/", "/api/v1/services/tesla/breakdown/"):
        response = api.get(path, {param: value})
        assert response.status_code in (200, 400), (path, param, response.content)
        # Errors may quote the value back, but only ever as JSON that browsers will not sniff as HTML.
        assert response["Content-Type"] == "application/json"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_html_in_a_comment_is_shown_escaped_on_the_service_page_and_in_the_admin(api, client, tesla):
    assert _post(api, {**GOOD, "comment": XSS}).status_code == 201
    page = client.get("/status/tesla/").content.decode()
    assert "&lt;script&gt;" in page and XSS not in page
    admin = get_user_model().objects.create_superuser("root", password="pw-root-123")
    client.force_login(admin)
    report = Report.objects.get()
    change = client.get(f"/admin/reports/report/{report.pk}/change/").content.decode()
    assert XSS not in change and "&lt;script&gt;" in change


def test_html_in_the_form_is_refused_and_echoed_escaped(client, tesla):
    response = client.post(
        "/status/tesla/report/", {"feature": "climate", "code": "__other__", "code_other": XSS, "country": "FR"}
    )
    assert response.status_code == 200  # the form again, with the error
    html = response.content.decode()
    assert XSS not in html and "&lt;script&gt;" in html
    assert Report.objects.count() == 0


@pytest.mark.parametrize("ua", [XSS, "A" * 20_000, "\x00\x01", "Mozilla/5.0 ☃"])
def test_hostile_user_agents_and_forwarded_headers_are_harmless(api, tesla, ua):
    response = _post(api, GOOD, HTTP_USER_AGENT=ua, HTTP_X_FORWARDED_FOR=f"{SQL}, 1.2.3.4")
    assert response.status_code == 201
    assert len(Report.objects.get().fingerprint) == 32


@pytest.mark.parametrize(
    "value", ["2024-01-01T00:00:00+23:30", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:00"]
)
def test_extreme_date_times_in_queries_are_refused_or_answered_never_500(api, tesla, value):
    # PostgreSQL cannot store offsets beyond ±15:59 (found by schemathesis).
    for path in ("/api/v1/services/tesla/timeseries/", "/api/v1/services/tesla/breakdown/", "/api/v1/reports/"):
        params = {"start": value, "dimension": "code", "interval": "1h"}
        response = api.get(path, params)
        assert response.status_code in (200, 400, 401, 403), (path, response.content)


PAGES = ["/", "/status/tesla/", "/status/tesla/report/", "/status/tesla/status.json", "/embed/status/tesla/"]
PAGES += ["/status/tesla/chart/timeline.json", "/status/tesla/chart/timeline.csv", "/status/tesla/feed/"]


@pytest.mark.parametrize("value", [XSS, SQL, "\x00", "9" * 40, "0001-01-01T00:00:00+01:00", "-1"])
def test_hostile_query_parameters_on_pages_never_500(client, tesla, value):
    for path in PAGES:
        params = dict.fromkeys(["range", "start", "end", "lang", "interval", "region", "page", "dimension"], value)
        response = client.get(path, params)
        assert response.status_code < 500, (path, response.status_code)
        assert XSS not in response.content.decode(errors="replace"), path
