"""Last-seen stamps in the cache: workers write them, the web's readiness and metrics read them.

A stamp is one small cache entry per kind (`worker`, `tick`, ...); losing them with a Redis
flush only makes the next readiness check report "not seen yet" until the next task runs.
"""

import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)
PREFIX = "ops:seen:"
KEEP_SECONDS = 24 * 3600


def stamp(kind: str, **values: float) -> None:
    try:
        cache.set(PREFIX + kind, {"at": time.time(), **values}, timeout=KEEP_SECONDS)
    except Exception as exc:  # Redis down: the work itself went through, only the stamp is lost
        log.warning("heartbeat %s not stored: %s", kind, exc)


def last(kind: str) -> dict | None:
    """The last stamp of `kind` ({"at": epoch seconds, ...}), None if never seen; raises if Redis is down."""
    return cache.get(PREFIX + kind)
