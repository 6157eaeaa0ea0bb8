"""Error codes as owners see them in the app."""

import re
from http import HTTPStatus

from django.utils.translation import gettext as _

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
NO_CODE = "none"

# Offered as one-tap choices on the report form; anything else goes in the free field.
COMMON_CODES = ["none", "500", "502", "503", "504", "408", "401", "403", "429", "ERR_TIMEOUT"]


def is_valid_code(code: str) -> bool:
    # fullmatch: `$` alone would also accept a trailing newline ("503\n").
    return bool(CODE_RE.fullmatch(code))


def code_label(code: str) -> str:
    """'503' -> '503 Service Unavailable'; other codes are shown as they are."""
    if code == NO_CODE:
        return _("no error code")
    if code.isascii() and code.isdigit() and 100 <= int(code) <= 599:  # "²".isdigit() is True
        try:
            return f"{code} {HTTPStatus(int(code)).phrase}"
        except ValueError:
            return code
    return code
