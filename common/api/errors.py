import logging

from django.core.exceptions import RequestDataTooBig
from django.db import DataError, InterfaceError, OperationalError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger(__name__)

RETRY_AFTER_DB_DOWN = "5"


def exception_handler(exc, context):
    """DRF's handler, plus clear answers for what would otherwise be a 500."""
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": "Request body is too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database is down or restarting: nothing was stored, the client
        # should retry. Never a traceback.
        log.error("database unavailable: %s", exc)
        return Response(
            {"detail": "Storage is temporarily unavailable; nothing was stored. Retry shortly."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": RETRY_AFTER_DB_DOWN},
        )
    if isinstance(exc, (DataError, OverflowError)):
        # A value the serializers let through but the database cannot represent
        # (PostgreSQL: a date-time offset beyond ±15:59, an integer out of range;
        # any backend: 0001-01-01T00:00+01:00 falls before year 1 in UTC).
        log.warning("value out of the database's range: %s", exc)
        return Response({"detail": "A value is out of the supported range."}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
