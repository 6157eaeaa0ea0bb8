import re

from django.test import Client

from reports.models import Report

URL = "/status/tesla/report/"


def form(**overrides):
    return {
        "feature": "sentinel-mode",
        "code": "503",
        "code_other": "",
        "country": "FR",
        "comment": "",
        "website": "",
        **overrides,
    }


def test_the_form_offers_features_codes_and_a_country_from_accept_language(client, tesla):
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="de-CH,de;q=0.9").content.decode()
    assert 'value="sentinel-mode"' in html and 'value="other"' in html
    assert "503 Service Unavailable" in html
    assert re.search(r'<option value="CH" selected>', html)
    assert 'name="website"' in html  # the honeypot
    assert 'name="viewport"' in html


def test_a_report_through_the_form_is_counted_and_thanked(client, tesla):
    response = client.post(URL, form(), follow=True, REMOTE_ADDR="198.51.100.3")
    assert response.status_code == 200
    report = Report.objects.get()
    assert (report.source, report.feature.slug, report.code, report.region) == ("web", "sentinel-mode", "503", "EU")
    assert "0 other people reported a problem with Tesla in the last hour" in response.content.decode()


def test_thanks_counts_the_others(client, tesla):
    for i in range(3):
        Client().post(URL, form(), HTTP_USER_AGENT=f"phone-{i}")
    response = client.post(URL, form(), follow=True, HTTP_USER_AGENT="mine")
    assert "3 other people reported" in response.content.decode()


def test_a_free_code_is_accepted(client, tesla):
    client.post(URL, form(code="__other__", code_other="ERR_TIMEOUT"))
    assert Report.objects.get().code == "ERR_TIMEOUT"


def test_errors_are_shown_next_to_their_field(client, tesla):
    response = client.post(URL, form(feature="", code="__other__", code_other="bad code!", comment="x" * 300))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="error-feature"' in html and 'id="error-comment"' in html
    assert not Report.objects.exists()
    response = client.post(URL, form(code="__other__", code_other="bad code!"))
    assert 'id="error-code"' in response.content.decode()


def test_a_comment_is_shown_escaped_when_the_form_comes_back(client, tesla):
    response = client.post(URL, form(feature="", comment="<script>alert(1)</script>"))
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_honeypot_counts_nothing(client, tesla):
    response = client.post(URL, form(website="http://spam.example"))
    assert response.status_code == 302
    assert not Report.objects.exists()


def test_the_form_is_csrf_protected(tesla):
    client = Client(enforce_csrf_checks=True)
    assert client.post(URL, form()).status_code == 403
    client.get(URL)
    token = client.cookies["csrftoken"].value
    assert client.post(URL, {**form(), "csrfmiddlewaretoken": token}).status_code == 302
    assert Report.objects.count() == 1


def test_a_duplicate_through_the_form_is_thanked_but_not_counted(client, tesla):
    client.post(URL, form())
    response = client.post(URL, form(), follow=True)
    assert "was not counted" in response.content.decode()
    assert Report.objects.count() == 1
