from django.utils.translation.trans_real import parse_accept_lang_header

from .regions import is_country

# Bare language tags ("de") say little about where someone is; these are the
# likeliest countries, and anything else falls back to no default.
_LANGUAGE_COUNTRY = {
    "en": "US",
    "fr": "FR",
    "de": "DE",
    "es": "ES",
    "it": "IT",
    "nl": "NL",
    "pt": "PT",
    "sv": "SE",
    "da": "DK",
    "nb": "NO",
    "no": "NO",
    "nn": "NO",
    "fi": "FI",
    "pl": "PL",
    "ja": "JP",
    "ko": "KR",
    "zh": "CN",
    "cs": "CZ",
    "el": "GR",
    "hu": "HU",
    "ro": "RO",
    "tr": "TR",
    "uk": "UA",
    "ru": "RU",
}


def country_from_accept_language(header: str) -> str | None:
    """'fr-CH,fr;q=0.9' -> 'CH'; 'de' -> 'DE'; None when nothing fits."""
    for tag, _quality in parse_accept_lang_header(header or ""):
        language, _, rest = tag.partition("-")
        region = rest.split("-")[-1].upper() if rest else ""
        if len(region) == 2 and is_country(region):
            return region
        if language.lower() in _LANGUAGE_COUNTRY:
            return _LANGUAGE_COUNTRY[language.lower()]
    return None
