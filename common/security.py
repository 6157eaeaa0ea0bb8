"""Frame and content-security policy: nothing may frame Tremor except its embed pages.

Every response carries `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`.
A view that should be embeddable elsewhere (the `/embed/...` pages) only needs
Django's `@xframe_options_exempt`: this middleware then also opens CSP
`frame-ancestors` for it, so the two headers never disagree.
"""

from django.conf import settings


class EmbeddableFramesMiddleware:
    """Must sit after csp.middleware.CSPMiddleware in MIDDLEWARE (it runs first on the way out)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(response, "xframe_options_exempt", False):
            replace = dict(getattr(response, "_csp_replace", None) or {})
            replace["frame-ancestors"] = settings.TREMOR_EMBED_FRAME_ANCESTORS
            response._csp_replace = replace
        return response
