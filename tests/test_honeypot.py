"""The form's honeypot catches bots, never a person's browser, and never claims a dropped report counted."""

import re

from reports.models import Report

FORM = {"feature": "climate", "code": "503", "country": "FR"}


def test_the_honeypot_is_out_of_the_tab_order_and_closed_to_autofill(client, tesla):
    html = client.get("/status/tesla/report/").content.decode()
    field = re.search(r'<input[^>]*name="website"[^>]*>', html).group(0)
    assert 'tabindex="-1"' in field and 'autocomplete="off"' in field


def test_a_filled_honeypot_stores_nothing_and_the_thanks_page_does_not_say_it_counted(client, tesla):
    response = client.post("/status/tesla/report/", {**FORM, "website": "https://autofilled.example"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your report was counted" not in page and "was not counted" in page
    assert Report.objects.count() == 0


def test_an_empty_honeypot_is_a_person(client, tesla):
    response = client.post("/status/tesla/report/", {**FORM, "website": ""}, follow=True)
    assert "Your report was counted" in response.content.decode()
    assert Report.objects.count() == 1
