from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _has_lone_surrogate(value) -> bool:
    if isinstance(value, str):
        if value.isascii():
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, answering 400 to two hostile inputs it lets through as 500s.

    - Deep nesting: Python's json module raises RecursionError (not ValueError),
      which DRF does not catch; a 64 KiB body holds 30,000 levels.
    - Lone surrogates (`"\\ud800"`): valid JSON, but no UTF-8 text, so any
      database write or UTF-8 rendering of it fails.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        if _has_lone_surrogate(data):
            raise ParseError("JSON parse error - strings must be valid Unicode (no lone surrogates).")
        return data
