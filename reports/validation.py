"""Validation of one report, shared by the form, the API, bulk intake and import.

Plain functions over plain dicts: DRF serializers on 1,000-item batches (or
100,000 import rows) would cost more than the database write itself.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from .catalog import ServiceEntry, catalog
from .codes import is_valid_code
from .models import Feature
from .regions import is_country, region_for

MAX_COMMENT = 280
# C0 controls but tab and newlines, and DEL: nothing a person types, only what a script injects.
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_FUTURE = timedelta(minutes=1)
MAX_AGE = timedelta(days=7)


@dataclass(frozen=True)
class ReportInput:
    service_id: int
    service_slug: str
    feature_id: int | None  # None: feature `other` not created yet (see services.ensure_other)
    feature_slug: str
    code: str
    country: str
    region: str
    comment: str
    observed_at: datetime | None


def _text(raw: dict, name: str, errors: dict, *, required: bool = True) -> str:
    value = raw.get(name)
    if isinstance(value, str):
        # Whitespace only (a space, a tab, a no-break space) is as good as missing:
        # checked here, or it would pass as "present" and match no service.
        value = value.strip()
    if value is None or value == "":
        if required:
            errors[name] = _("This field is required.")
        return ""
    if name == "code" and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # `"code": 503` is what a script would naturally send
    if not isinstance(value, str):
        errors[name] = _("Must be a string.")
        return ""
    if "\x00" in value:
        errors[name] = _("Must not contain NUL characters.")
        return ""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates ("\ud800" in JSON): no database can store them
            errors[name] = _("Must be valid Unicode text.")
            return ""
    if _CONTROL.search(value):
        errors[name] = _("Must not contain control characters.")
        return ""
    return value.strip()


def parse_observed_at(value: object, *, now: datetime, errors: dict, field: str = "observed_at") -> datetime | None:
    if not isinstance(value, str):
        errors[field] = _("Must be an ISO 8601 date-time string.")
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        errors[field] = _("Must be an ISO 8601 date-time, e.g. 2023-02-14T09:00:00Z.")
        return None
    if parsed.tzinfo is None:
        errors[field] = _("Must carry a time zone (Z or +hh:mm).")
        return None
    if parsed > now + MAX_FUTURE:
        errors[field] = _("Must not be more than 1 minute in the future.")
    elif parsed < now - MAX_AGE:
        errors[field] = _("Must not be older than 7 days.")
    return parsed


def validate_report(
    raw: object,
    *,
    now: datetime,
    service: ServiceEntry | None = None,
    allow_observed_at: bool = False,
) -> tuple[ReportInput | None, dict[str, str]]:
    """Check one report; returns (input, {}) or (None, {field: message})."""
    if not isinstance(raw, dict):
        return None, {"non_field_errors": _("Each report must be a JSON object.")}
    errors: dict[str, str] = {}
    if service is None:
        slug = _text(raw, "service", errors)
        if slug:
            service = catalog.service(slug)
            if service is None or not service.active:
                errors["service"] = _("Unknown service %(service)s.") % {"service": repr(slug)}
    feature = _text(raw, "feature", errors)
    code = _text(raw, "code", errors)
    country = _text(raw, "country", errors).upper()
    comment = _text(raw, "comment", errors, required=False)

    feature_id = None
    if feature and service is not None:
        feature_id = service.features.get(feature)
        if feature_id is None and feature != Feature.OTHER:
            errors["feature"] = _("%(feature)s is not a feature of %(service)s.") % {
                "feature": repr(feature),
                "service": repr(service.slug),
            }
    if code and not is_valid_code(code):
        errors["code"] = _(
            "Must be 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit (or 'none')."
        )
    if country and not is_country(country):
        errors["country"] = _("%(country)s is not an ISO 3166-1 alpha-2 country code.") % {"country": repr(country)}
    if len(comment) > MAX_COMMENT:
        errors["comment"] = _("At most %(max)s characters (got %(n)s).") % {"max": MAX_COMMENT, "n": len(comment)}

    observed_at = None
    if allow_observed_at and raw.get("observed_at") is not None:
        observed_at = parse_observed_at(raw["observed_at"], now=now, errors=errors)
    if service is None and not errors:
        errors["service"] = "This field is required."  # never an item without its service
    if errors:
        return None, errors
    return (
        ReportInput(
            service_id=service.id,
            service_slug=service.slug,
            feature_id=feature_id,
            feature_slug=feature,
            code=code,
            country=country,
            region=region_for(country),
            comment=comment,
            observed_at=observed_at,
        ),
        {},
    )
