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
from schemathesis.specs.openapi import checks as oa_checks

from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

MAX_EXAMPLES = 25  # per operation: 6 operations, well under a minute in total
CHECKS = [
    st_checks.not_a_server_error,
    oa_checks.status_code_conformance,
    oa_checks.content_type_conformance,
    oa_checks.response_headers_conformance,
    oa_checks.response_schema_conformance,
]


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
        case.call_and_validate(headers={"Authorization": token}, checks=CHECKS)
    finally:
        transaction.savepoint_rollback(savepoint)
