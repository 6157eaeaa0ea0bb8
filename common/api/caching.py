"""Conditional GET for API reads: ETag and Last-Modified, so polling clients get 304s.

Use `ConditionalGetMixin` on an APIView (or generic view):

- every 200 answer to GET gets a strong ETag (sha256 of the rendered body) and
  `Cache-Control: no-cache` (store, but revalidate); an `If-None-Match` that
  matches turns it into a 304 with no body;
- a view that can tell cheaply when its data last changed defines
  `get_last_modified(request, *args, **kwargs) -> datetime | None`; then
  `If-Modified-Since` is answered with a 304 *before* the view does its work.
"""

import hashlib
from datetime import datetime

from django.http import HttpResponseNotModified
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, parse_http_date_safe


def body_etag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


class _NotModified(Exception):
    pass


class ConditionalGetMixin:
    cache_control: dict = {"no_cache": True}

    def get_last_modified(self, request, *args, **kwargs) -> datetime | None:
        return None

    def initial(self, request, *args, **kwargs):
        # After authentication, permissions and throttles: a 304 is still an answer to a caller.
        super().initial(request, *args, **kwargs)
        self._last_modified = None
        if request.method not in ("GET", "HEAD"):
            return
        self._last_modified = self.get_last_modified(request, *args, **kwargs)
        since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
        if (
            self._last_modified is not None
            and since is not None
            and "HTTP_IF_NONE_MATCH" not in request.META  # RFC 9110: If-None-Match takes precedence
            and int(self._last_modified.timestamp()) <= since
        ):
            raise _NotModified

    def handle_exception(self, exc):
        if isinstance(exc, _NotModified):
            response = HttpResponseNotModified()
            response["Last-Modified"] = http_date(self._last_modified.timestamp())
            return self._decorate(response)
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        response.render()
        response["ETag"] = body_etag(response.content)
        last_modified = getattr(self, "_last_modified", None)
        if last_modified is not None:
            response["Last-Modified"] = http_date(last_modified.timestamp())
        conditional = get_conditional_response(
            request,
            etag=response["ETag"],
            last_modified=int(last_modified.timestamp()) if last_modified else None,
            response=response,
        )
        return self._decorate(conditional)

    def _decorate(self, response):
        patch_cache_control(response, **self.cache_control)
        # Answers differ per token (rate headers aside, webhook lists are per holder).
        patch_vary_headers(response, ["Authorization"])
        return response
