import logging

from rest_framework.throttling import SimpleRateThrottle

log = logging.getLogger(__name__)


class ReportSubmitThrottle(SimpleRateThrottle):
    """Per-client limit on single-report intake (TREMOR_REPORT_THROTTLE)."""

    scope = "report_submit"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # Redis down: accepting reports matters more than limiting them
            log.warning("throttle: Redis unavailable (%s), not throttling", exc)
            return True
