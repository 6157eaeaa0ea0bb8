"""The plain-words status sentence."""

from datetime import UTC, datetime

import pytest
from django.utils import translation

from public.summary import status_sentence


@pytest.fixture(autouse=True)
def _english():
    # Requests with other languages leave theirs active in the thread; these tests read English.
    with translation.override("en"):
        yield


NOW = datetime(2023, 2, 14, 11, 30, tzinfo=UTC)
NAMES = {"sentinel-mode": "Sentinel mode", "remote-unlock": "Remote unlock", "app-login": "App login"}


def incident(**overrides):
    base = {
        "started_at": "2023-02-14T09:02:00Z",
        "scope": {"regions": ["EU"], "countries": ["DE", "FR"], "codes": ["503"],
                  "features": ["sentinel-mode", "remote-unlock", "climate"]},
        "is_regional": True,
    }  # fmt: skip
    return {**base, **overrides}


def say(level=2, inc=None, **kw):
    return status_sentence(service="Tesla", level=level, incident=inc, feature_names=NAMES, now=NOW, **kw)


def test_it_says_who_since_when_where_which_error_and_which_features():
    assert say(inc=incident()) == (
        "User reports indicate problems at Tesla since 09:02 UTC, mostly in Europe: "
        "503 errors on sentinel mode and remote unlock."
    )


def test_it_says_possible_problems_at_level_one():
    assert say(level=1, inc=incident()).startswith("User reports indicate possible problems at Tesla since 09:02 UTC")


def test_it_says_there_is_no_problem_when_the_detector_sees_none():
    assert say(level=0, inc=None) == "User reports indicate no current problems at Tesla."
    assert say(level=0, inc=incident()) == "User reports indicate no current problems at Tesla."


def test_a_worldwide_incident_is_in_several_regions_and_no_code_means_features_only():
    inc = incident(scope={"regions": ["EU", "NA", "APAC"], "codes": ["none"], "features": ["app-login"]},
                   is_regional=False)  # fmt: skip
    assert say(inc=inc) == (
        "User reports indicate problems at Tesla since 09:02 UTC, in several regions: trouble with app login."
    )


def test_two_codes_and_two_regions_are_joined_in_words():
    inc = incident(scope={"regions": ["EU", "NA"], "codes": ["503", "502"], "features": []}, is_regional=False)
    assert say(inc=inc).endswith("mostly in Europe and in North America: 503 and 502 errors.")


def test_an_incident_that_started_yesterday_gives_the_date():
    assert "since February 13, 21:00 UTC," in say(inc=incident(started_at="2023-02-13T21:00:00Z"))
    with translation.override("de"):
        assert "seit 13. Februar, 21:00 UTC" in say(inc=incident(started_at="2023-02-13T21:00:00Z"))


def test_it_speaks_french_and_german():
    with translation.override("fr"):
        fr = say(inc=incident())
    with translation.override("de"):
        de = say(inc=incident())
    assert fr == (
        "Les signalements des utilisateurs indiquent des problèmes chez Tesla depuis 09:02 UTC, "
        "surtout en Europe\u00a0: erreurs 503 sur sentinel mode et remote unlock."
    )
    assert de == (
        "Nutzermeldungen deuten seit 09:02 UTC auf Probleme bei Tesla hin, vor allem in Europa: "
        "503-Fehler bei Sentinel mode und Remote unlock."
    )
