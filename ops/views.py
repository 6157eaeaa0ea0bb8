"""The probes and the scrape: `/health/`, `/health/ready/`, `/metrics` (answered by ops.middleware)."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

from . import checks, metrics


def liveness(request: HttpRequest) -> HttpResponse:
    """The process answers: nothing else is looked at (a restart would not fix a database outage)."""
    response = JsonResponse({"status": "ok"})
    add_never_cache_headers(response)
    return response


def readiness(request: HttpRequest) -> HttpResponse:
    ready, results = checks.run_checks()
    body = {"status": "ok" if ready else "unavailable", "checks": results}
    response = JsonResponse(body, status=200 if ready else 503)
    add_never_cache_headers(response)
    return response


def scrape(request: HttpRequest) -> HttpResponse:
    allowed = metrics.scrape_allowed(
        address=request.META.get("REMOTE_ADDR", ""), authorization=request.META.get("HTTP_AUTHORIZATION", "")
    )
    if not allowed:
        return HttpResponse("Forbidden: set TREMOR_METRICS_TOKEN or TREMOR_METRICS_ALLOW.\n", status=403,
                            content_type="text/plain")  # fmt: skip
    response = HttpResponse(metrics.exposition(), content_type=metrics.CONTENT_TYPE_LATEST)
    add_never_cache_headers(response)
    return response
