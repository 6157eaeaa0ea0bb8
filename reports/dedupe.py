"""Count only the first report per reporter per service within the window.

Redis `SET NX EX` decides atomically across web workers. When Redis is down,
intake must keep accepting reports, so the check falls back to the database
(slower, and two racing requests may both count: the documented degradation).
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache

from .models import Report

log = logging.getLogger(__name__)


def _key(service_id: int, fingerprint: str) -> str:
    return f"dedupe:{service_id}:{fingerprint}"


def claim_of(*, service_id: int, fingerprint: str) -> tuple[str, int]:
    """(cache key, seconds) of a reporter's claim: for callers that set it themselves
    in a batch of Redis commands (intake's throttle script), compatible with the below."""
    return _key(service_id, fingerprint), settings.TREMOR_DEDUPE_WINDOW_SECONDS


def claim_first_report(*, service_id: int, fingerprint: str, now: datetime) -> bool:
    """True when this is the reporter's first report in the window (and claims it)."""
    window = settings.TREMOR_DEDUPE_WINDOW_SECONDS
    try:
        return bool(cache.add(_key(service_id, fingerprint), 1, timeout=window))
    except Exception as exc:  # redis-py raises several ConnectionError/TimeoutError types
        log.warning("dedupe: Redis unavailable (%s), checking the database", exc)
        return not Report.objects.filter(
            service_id=service_id,
            fingerprint=fingerprint,
            # Live reports have observed_at == received_at, and this uses the
            # (service, observed_at) index instead of needing one of its own.
            observed_at__gte=now - timedelta(seconds=window),
        ).exists()


def release_claim(*, service_id: int, fingerprint: str) -> None:
    """Undo a claim when the report could not be stored, so a retry counts."""
    try:
        cache.delete(_key(service_id, fingerprint))
    except Exception:  # Redis gone: the claim expires on its own
        log.warning("dedupe: could not release claim", exc_info=True)
