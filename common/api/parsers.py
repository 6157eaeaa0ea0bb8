from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# No body of this API nests deeper than a bulk batch's report (3 levels); 32 leaves
# room for any JSON a client could mean, and bounds every walk over the parsed data.
MAX_DEPTH = 32


def _check(data) -> None:
    """Depth and lone surrogates, walked with an explicit stack.

    A recursive walk overflowed Python's stack on bodies that the json module
    itself still parses (400-900 levels): a 500 outside the parser's try.
    """
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    raise ParseError("JSON parse error - strings must be valid Unicode (no lone surrogates).") from None
        elif isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
            if isinstance(value, dict):
                stack.extend((key, depth) for key in value)
                stack.extend((item, depth + 1) for item in value.values())
            else:
                stack.extend((item, depth + 1) for item in value)


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, answering 400 to hostile inputs it lets through as 500s.

    - Deep nesting: Python's json module raises RecursionError (not ValueError)
      past ~1,000 levels, which DRF does not catch; a 64 KiB body holds 30,000.
      Below that, anything deeper than MAX_DEPTH is refused too.
    - Lone surrogates (`"\\ud800"`): valid JSON, but no UTF-8 text, so any
      database write or UTF-8 rendering of it fails.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        _check(data)
        return data
