"""Every user-facing string marked in Python is translated in fr and de; the last English-only
texts (form validation, the 503 page, feeds, badges) follow the reader's language."""

import ast
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import RequestFactory
from django.utils import translation

from common.middleware import DatabaseUnavailableMiddleware
from tests.test_journalist_pages import open_incident

ROOT = Path(settings.BASE_DIR)
APPS = ["analytics", "common", "config", "demo", "ops", "public", "reports", "research", "webhooks"]
GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}


@pytest.fixture(autouse=True)
def _back_to_english():
    yield
    translation.activate(settings.LANGUAGE_CODE)


def marked_strings() -> set[str]:
    found = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in GETTEXT:
                    args = node.args[1:] if getattr(node.func, "id", "").startswith("pgettext") else node.args
                    found |= {a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return found


def _po_string(block: str, key: str) -> str:
    match = re.search(rf"^{key} ((?:\".*\"\n?)+)", block + "\n", re.M)
    return "".join(json.loads(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', match.group(1))) if match else ""


def translations(language: str) -> dict[str, str]:
    po = (ROOT / "locale" / language / "LC_MESSAGES" / "django.po").read_text()
    out = {}
    for block in po.split("\n\n")[1:]:
        if "#, fuzzy" in block:
            continue
        msgid = _po_string(block, "msgid")
        out[msgid] = _po_string(block, "msgstr") or _po_string(block, r"msgstr\[0\]")
        if plural := _po_string(block, "msgid_plural"):
            out[plural] = _po_string(block, r"msgstr\[1\]")
    return out


@pytest.mark.parametrize("language", ["fr", "de"])
def test_every_marked_string_in_python_has_a_translation(language):
    catalog = translations(language)
    missing = sorted(s for s in marked_strings() if not catalog.get(s))
    assert missing == [], f"run makemessages (README), translate, compilemessages: {missing}"


def test_the_check_sees_the_strings_of_the_remaining_texts():
    marked = marked_strings()
    remaining = {"Tremor is briefly unavailable", "no problems", "Tremor incidents", "Must be valid Unicode text."}
    assert remaining <= marked


FORM_ERROR = [("fr", "en commençant par une lettre ou un chiffre"), ("de", "mit einem Buchstaben oder einer Ziffer")]


@pytest.mark.parametrize(("language", "phrase"), FORM_ERROR)
def test_report_form_validation_messages_are_translated(client, tesla, language, phrase):
    bad_code = {"code": "__other__", "code_other": "!bad", "country": "FR", "feature": "climate"}
    html = client.post("/status/tesla/report/", bad_code, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert phrase in html


@pytest.mark.parametrize(("language", "phrase"), [("fr", "Tremor est momentanément indisponible"),
                                                  ("de", "Tremor ist kurz nicht erreichbar")])  # fmt: skip
def test_the_503_page_speaks_the_readers_language(language, phrase):
    request = RequestFactory().get("/status/tesla/")
    with translation.override(language):
        response = DatabaseUnavailableMiddleware(lambda r: None).process_exception(request, OperationalError("down"))
    html = response.content.decode()
    assert response.status_code == 503 and phrase in html and f'lang="{language}"' in html


def test_feed_titles_and_summaries_are_translated(client, tesla):
    open_incident(tesla)
    fr = client.get("/incidents/feed/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<title>Incidents Tremor</title>" in fr and "Tesla : problèmes" in fr and "Début " in fr
    assert 'xml:lang="fr"' in fr
    de = client.get("/status/tesla/feed/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Tremor: Vorfälle bei Tesla" in de and "Spitze" in de


def test_badge_labels_are_translated(client, tesla):
    assert "unbekannt" in client.get("/status/tesla/badge.svg", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    open_incident(tesla)
    from analytics.models import Level, ServiceStatus

    ServiceStatus.objects.update_or_create(service=tesla, defaults={"level": Level.NORMAL})
    svg = client.get("/status/tesla/badge.svg", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "aucun problème" in svg
    assert client.get("/status/tesla/badge.svg")["Vary"].count("Accept-Language") == 1
