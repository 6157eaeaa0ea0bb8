"""English, French and German: Accept-Language, the switcher, compiled catalogs, locale formats."""

from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from tests.test_journalist_pages import add_reports, open_incident, settle

LOCALE = Path(settings.BASE_DIR) / "locale"


@pytest.fixture(autouse=True)
def _back_to_english():
    # The test client's requests activate their language in this thread; leave English behind.
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def outage(tesla):
    from datetime import timedelta

    add_reports(tesla, 1234, ago=timedelta(minutes=40))
    settle(tesla)
    return open_incident(tesla)


@pytest.mark.parametrize("language", ["fr", "de"])
def test_compiled_catalogs_are_committed_and_complete(language):
    po = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text()
    mo = LOCALE / language / "LC_MESSAGES" / "django.mo"
    assert mo.exists(), "run manage.py compilemessages and commit the .mo"
    assert mo.stat().st_mtime >= (LOCALE / language / "LC_MESSAGES" / "django.po").stat().st_mtime - 1
    assert "#, fuzzy" not in po
    # Every message translated: no empty msgstr after the header.
    entries = po.split("\n\n")[1:]
    untranslated = [e for e in entries if 'msgstr ""' in e and 'msgstr ""\n"' not in e]
    assert untranslated == []


@pytest.mark.parametrize(("accept", "phrases"), [
    ("fr-FR,fr;q=0.9", ["Signalements comparés aux niveaux habituels", "Problèmes les plus signalés",
                        "Les signalements des utilisateurs indiquent des problèmes chez Tesla", "1\u00a0234"]),
    ("de-DE,de;q=0.9", ["Meldungen im Vergleich zum üblichen Niveau", "Am häufigsten gemeldete Probleme",
                        "Nutzermeldungen deuten seit", "1.234"]),
    ("en-US,en;q=0.9", ["Reports compared with typical levels", "Most reported problems",
                        "User reports indicate problems at Tesla", "1,234"]),
])  # fmt: skip
def test_the_service_page_speaks_the_browser_language_with_its_number_format(client, outage, accept, phrases):
    html = client.get("/status/tesla/", HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    for phrase in phrases:
        assert phrase in html


def test_the_switcher_sets_the_language_for_the_next_pages(client, outage):
    response = client.post("/i18n/setlang/", {"language": "de", "next": "/status/tesla/"})
    assert response.status_code == 302 and response["Location"] == "/status/tesla/"
    html = client.get("/status/tesla/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="de">' in html and "Diese Grafik einbetten" in html
    assert 'value="de" lang="de" aria-current="true"' in html


def test_the_report_form_and_its_errors_are_translated(client, tesla):
    html = client.get("/status/tesla/report/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    phrases = ["Un problème avec Tesla\u00a0?", "Qu’est-ce qui ne fonctionne pas ?", "Votre pays",
               "Envoyer le signalement", "aucun code d’erreur", '<option value="DE">Allemagne</option>']  # fmt: skip
    for phrase in phrases:
        assert phrase in html
    posted = client.post("/status/tesla/report/", {"code": "__other__", "country": "FR", "feature": "climate"},
                         HTTP_ACCEPT_LANGUAGE="de").content.decode()  # fmt: skip
    assert "Geben Sie den Code ein, den die App angezeigt hat" in posted
    assert posted.index(">Österreich<") < posted.index(">Polen<")  # sorted as German readers expect


def test_chart_data_follows_the_language(client, outage):
    fr = client.get("/status/tesla/chart/timeline.json", HTTP_ACCEPT_LANGUAGE="fr").json()["figure"]["layout"]
    de = client.get("/status/tesla/chart/region.json", HTTP_ACCEPT_LANGUAGE="de").json()["figure"]
    assert fr["xaxis"]["title"]["text"] == "Heure (UTC)" and fr["separators"] == ",\u202f"
    assert de["data"][0]["y"] == ["Europa"] and de["data"][0]["text"] == ["100,0 %"]


def test_country_names_are_translated_on_the_map():
    from public.charts import country_name

    with translation.override("de"):
        assert country_name("DE") == "Deutschland"
    with translation.override("fr"):
        assert country_name("US") == "États-Unis"
    with translation.override("en"):
        assert country_name("US") == "United States"
