"""Country -> region: the one table every part of Tremor derives regions from."""

import functools
import gettext
import unicodedata

import pycountry
from django.utils.translation import get_language
from django.utils.translation import gettext as _

REGIONS = ("EU", "NA", "LATAM", "APAC", "MEA")

_MEMBERS: dict[str, str] = {
    # All of Europe, the UK, Norway and Switzerland included; transcontinental
    # Turkey, Russia and the Caucasus report like their European neighbours.
    "EU": "AD AL AM AT AX AZ BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GE GG GI GR HR HU "
    "IE IM IS IT JE LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM TR UA VA",
    "NA": "US CA UM PM BM GL",
    "LATAM": "MX BZ CR GT HN NI PA SV AG AI AW BB BL BQ BS CU CW DM DO GD GP HT JM KN KY LC MF "
    "MQ MS PR SX TC TT VC VG VI AR BO BR CL CO EC FK GF GY PE PY SR UY VE GS",
    "APAC": "AF AS AU BD BN BT CC CN CK CX FJ FM GU HK ID IN IO JP KG KH KI KP KR KZ LA LK MH MM "
    "MN MO MP MV MY NC NF NP NR NU NZ PF PG PH PK PN PW SB SG TH TJ TK TL TM TO TV TW UZ VN "
    "VU WF WS AQ BV HM TF",
    "MEA": "AE BH IL IQ IR JO KW LB OM PS QA SA SY YE DZ AO BJ BW BF BI CM CV CF TD KM CG CD CI "
    "DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG MW ML MR MU YT MA MZ NA NE NG RE RW SH "
    "ST SN SC SL SO ZA SS SD TZ TG TN UG EH ZM ZW",
}

REGION_BY_COUNTRY: dict[str, str] = {code: region for region, codes in _MEMBERS.items() for code in codes.split()}

COUNTRY_NAMES: dict[str, str] = {c.alpha_2: c.name for c in pycountry.countries}


def region_names() -> dict[str, str]:
    return {
        "EU": _("Europe"),
        "NA": _("North America"),
        "LATAM": _("Latin America"),
        "APAC": _("Asia-Pacific"),
        "MEA": _("Middle East and Africa"),
    }


def region_places() -> dict[str, str]:
    # Whole phrases: French needs "en Europe" but "au Moyen-Orient".
    return {
        "EU": _("in Europe"),
        "NA": _("in North America"),
        "LATAM": _("in Latin America"),
        "APAC": _("in Asia-Pacific"),
        "MEA": _("in the Middle East and Africa"),
    }


def is_country(code: str) -> bool:
    return code in COUNTRY_NAMES


def region_for(country: str) -> str:
    """Region of an ISO 3166-1 alpha-2 code (upper case); KeyError if unknown."""
    return REGION_BY_COUNTRY[country]


def country_choices() -> list[tuple[str, str]]:
    return sorted(COUNTRY_NAMES.items(), key=lambda item: item[1])


@functools.cache
def _country_catalog(language: str) -> gettext.NullTranslations:
    # pycountry ships the iso-codes project's translations of country names.
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)


def localized_country_name(code: str) -> str:
    """The country's common name in the active language ("DE": "Germany", "Allemagne", "Deutschland")."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    name = getattr(country, "common_name", None) or country.name
    return _country_catalog((get_language() or "en")[:2]).gettext(name)


def localized_country_choices() -> list[tuple[str, str]]:
    """(code, name) for the report form's country menu, by name in the active language."""
    return list(_sorted_choices((get_language() or "en")[:2]))


@functools.cache
def _sorted_choices(language: str) -> tuple[tuple[str, str], ...]:
    names = _country_catalog(language)
    pairs = [(c.alpha_2, names.gettext(getattr(c, "common_name", None) or c.name)) for c in pycountry.countries]
    # "Österreich" sorts with the O's.
    return tuple(sorted(pairs, key=lambda item: unicodedata.normalize("NFKD", item[1]).casefold()))
