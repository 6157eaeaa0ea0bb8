import logging
import sys

from django.conf import settings
from django.db import DataError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import defaults

log = logging.getLogger(__name__)


class BodySizeLimitMiddleware:
    """413 for oversized bodies, before anything reads them.

    Django's own DATA_UPLOAD_MAX_MEMORY_SIZE answers 400 and only when the body
    is parsed; clients deserve to be told the real reason.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Content-Length must be an integer."}, status=400)
        bulk = request.path_info.startswith("/api/v1/reports/bulk")
        limit = settings.TREMOR_MAX_BULK_BODY_BYTES if bulk else settings.TREMOR_MAX_BODY_BYTES
        if length > limit:
            return JsonResponse({"detail": f"Request body is larger than {limit // 1024} KiB."}, status=413)
        return self.get_response(request)


RETRY_AFTER_DB_DOWN = "5"


def _unavailable(request) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        response = JsonResponse(
            {"detail": "Storage is temporarily unavailable; nothing was stored. Retry shortly."}, status=503
        )
    else:
        title, heading = _("Tremor: try again shortly"), _("Tremor is briefly unavailable")
        text = _("Nothing was stored. Please try again in a few seconds.")
        language = escape(get_language() or "en")
        response = HttpResponse(
            f'<!doctype html><html lang="{language}"><title>{escape(title)}</title>'
            f"<h1>{escape(heading)}</h1><p>{escape(text)}</p>",
            status=503,
        )
    response["Retry-After"] = RETRY_AFTER_DB_DOWN
    return response


class DatabaseUnavailableMiddleware:
    """503 + Retry-After instead of a 500 when the database is down or restarting.

    DRF views get the same answer from common.api.errors; this covers the
    pages and the report form (and `server_error` below anything else).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)):
            log.error("database unavailable: %s", exception)
            return _unavailable(request)
        if isinstance(exception, (DataError, OverflowError)):
            # Input the database cannot represent (e.g. a date-time offset beyond ±15:59 on PostgreSQL).
            log.warning("value out of the database's range: %s", exception)
            return JsonResponse({"detail": "A value is out of the supported range."}, status=400)
        return None


def server_error(request) -> HttpResponse:
    """handler500: a database outage that surfaced outside a view is still a 503."""
    exc = sys.exc_info()[1]
    if isinstance(exc, (OperationalError, InterfaceError)):
        return _unavailable(request)
    if request.path_info.startswith("/api/"):
        # The API's clients parse JSON: never an HTML page, and never the traceback.
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return defaults.server_error(request)


def page_not_found(request, exception) -> HttpResponse:
    """handler404: API clients get JSON even for URLs no route matches (e.g. a malformed slug)."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
