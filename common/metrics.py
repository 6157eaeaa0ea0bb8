"""Prometheus metrics that Tremor's code counts as it goes (served by ops.metrics at /metrics).

With PROMETHEUS_MULTIPROC_DIR set (./tremor up, the image) every gunicorn worker writes its
counts to files there and a scrape adds them up; without it (tests, a single process) they live
in the process. Gauges of stored state (open incidents, lags, queues) are read at scrape time
instead (ops.metrics), so they are right whichever process is scraped.
"""

import time

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter("tremor_http_requests", "HTTP requests answered.", ["method", "status"])
HTTP_LATENCY = Histogram(
    "tremor_http_request_duration_seconds",
    "Time to answer an HTTP request, by URL pattern.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# outcome: accepted (counted), duplicate (within the dedupe window), throttled (answered 429),
# unconfirmed (answered 503: Redis did not confirm the intake log's append in time, reports.redis_scripts).
REPORTS = Counter("tremor_reports", "Reports received, by source and outcome.", ["source", "outcome"])


def report_outcome(*, source: str, outcome: str, count: int = 1) -> None:
    REPORTS.labels(source=source, outcome=outcome).inc(count)


class RequestMetricsMiddleware:
    """Counts every answer and times it under its URL pattern (bounded labels: no raw paths)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = (match.route or match.view_name) if match else "unmatched"
        HTTP_LATENCY.labels(route=route or "unmatched").observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(method=request.method if request.method in _METHODS else "other",
                             status=str(response.status_code)).inc()  # fmt: skip
        return response


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
