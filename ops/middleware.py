"""Answers the probes and the scrape before anything else runs.

First in MIDDLEWARE on purpose: a load balancer or a kubelet probes by address (`Host: 10.0.3.7:8000`),
which ALLOWED_HOSTS would refuse with a 400, and over plain HTTP, which the HTTPS redirect would
answer with a 301; neither says anything about the process's health.
"""

from . import views

ROUTES = {"/health/": views.liveness, "/health/ready/": views.readiness, "/metrics": views.scrape}


class OpsEndpointsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = ROUTES.get(request.path_info)
        if view is not None and request.method in {"GET", "HEAD"}:
            return view(request)
        return self.get_response(request)
