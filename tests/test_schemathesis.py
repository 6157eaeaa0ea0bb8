"""Every API endpoint against its own OpenAPI schema: no 5xx, every response as documented.

schemathesis generates requests from `/api/schema/` and calls the Django WSGI app
in process, on the test database with a service, features and reports in it.
"""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi import checks as oa_checks

from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

MAX_EXAMPLES = 25  # per operation: well under two minutes in total
# Every check schemathesis has (conformance of status, content type, headers and body; negative data
# rejected and positive data accepted; required headers; unsupported methods and their Allow header;
# use after free, resource availability, ignored auth, object-level authorization).
st_checks.load_all_checks()
ALL_CHECKS = list(st_checks.CHECKS.get_all())
assert len(ALL_CHECKS) >= 14, [check.__name__ for check in ALL_CHECKS]

# Rules an OpenAPI schema cannot state, each a 400 naming its field: which services, features and
# countries exist (data), ranges relative to now or to another parameter, and JSON strings that are
# no text (lone surrogates). A schema-valid request refused for one of these, and only these, is not
# a failure of positive_data_acceptance; any other 400 still is.
UNSTATEABLE = (
    "Unknown service",
    "Object with slug=",  # a webhook's services: which exist
    # JSON Schema's `uri` is RFC 3986; a webhook target must also be a host DNS can hold (labels of
    # at most 63 characters, 253 in all), which no schema keyword states.
    "Enter a valid URL.",
    "is not a feature of",
    "is not an ISO 3166-1 alpha-2 country code",
    "Must be valid Unicode text",
    "Must not be older than 7 days",
    "Must not be more than 1 minute in the future",
    "Must be before end",
    "days before end: split longer ranges",
    "Too many buckets for this range",
    "Out of the supported range of dates",  # an offset that takes a date-time before year 1 in UTC
    "Null characters are not allowed",  # a valid JSON string, but no database stores or queries it
)


def _messages(body) -> list[str]:
    if isinstance(body, str):
        return [body]
    if isinstance(body, list):
        return [m for item in body for m in _messages(item)]
    if isinstance(body, dict):
        return [m for key, value in body.items() if key not in ("index", "detail") for m in _messages(value)]
    return []


def positive_data_acceptance(ctx, response, case):
    if response.status_code == 400:
        try:
            messages = _messages(response.json())
        except ValueError:
            messages = []
        if messages and all(any(rule in m for rule in UNSTATEABLE) for m in messages):
            return None
    return oa_checks.positive_data_acceptance(ctx, response, case)


CHECKS = [positive_data_acceptance if c is oa_checks.positive_data_acceptance else c for c in ALL_CHECKS]


@pytest.fixture
def in_process_wsgi():
    # As Django's test client does: the test's database transaction must survive
    # the end of each request instead of being closed as an old connection.
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    yield
    for signal in signals:
        signal.connect(close_old_connections)


@pytest.fixture
def token(partner):
    return partner._credentials["HTTP_AUTHORIZATION"]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_to_its_schema(case, in_process_wsgi, tesla, token):
    cache.clear()  # the throttle is tested elsewhere; here every request reaches the view
    # Each request in its own savepoint, as each runs in its own transaction in production:
    # a query PostgreSQL refused (answered 400) must not poison the next example's queries.
    savepoint = transaction.savepoint()
    try:
        # The token goes on every request but those whose headers schemathesis made invalid on
        # purpose (a missing or mangled Authorization): those must be refused, not authenticated.
        headers_made_invalid = case.meta is not None and any(
            location == ParameterLocation.HEADER and component.mode.is_negative
            for location, component in case.meta.components.items()
        )
        headers = {} if headers_made_invalid else {"Authorization": token}
        case.call_and_validate(headers=headers, checks=CHECKS)
    finally:
        transaction.savepoint_rollback(savepoint)
