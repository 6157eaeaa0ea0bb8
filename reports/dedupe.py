"""Count only the first report per reporter per service within the window, and a few per network.

A reporter is an address + User-Agent; a network is an IPv4 address or an
IPv6 /64 (reports.fingerprint). Changing the User-Agent, or the address inside
one's /64, makes a new reporter but not a new network: per service and window
a network counts at most TREMOR_DEDUPE_PER_NETWORK reports (settings.py says
why 5). Redis decides atomically across web workers. When Redis is down,
intake must keep accepting reports, so the check falls back to the database
(slower, and two racing requests may both count: the documented degradation).
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from . import redis_scripts
from .fingerprint import network_part
from .models import Report

log = logging.getLogger(__name__)

# claim(reporter key, network key, window seconds, per-network cap) -> 1 if counted.
# The reporter key is set even when the network is full: that device's repeats stay repeats.
CLAIM_FUNCTION_LUA = """
local function claim(reporter, network, window, cap)
  if not redis.call('SET', reporter, 1, 'NX', 'EX', window) then
    return 0
  end
  local used = redis.call('INCR', network)
  if used == 1 then
    redis.call('EXPIRE', network, window)
  end
  if used <= tonumber(cap) then
    return 1
  end
  return 0
end
"""
_CLAIM_LUA = CLAIM_FUNCTION_LUA + "return claim(KEYS[1], KEYS[2], ARGV[1], ARGV[2])"
_RELEASE_LUA = """
if redis.call('DEL', KEYS[1]) == 1 and redis.call('DECR', KEYS[2]) < 0 then
  redis.call('DEL', KEYS[2])
end
return 1
"""


@dataclass(frozen=True)
class Claim:
    reporter_key: str
    network_key: str
    window: int
    cap: int


def claim_of(*, service_id: int, fingerprint: str) -> Claim:
    """A reporter's claim: for callers that set it in a batch of Redis commands (intake's throttle script)."""
    return Claim(
        reporter_key=f"dedupe:{service_id}:{fingerprint}",
        network_key=f"dedupe-net:{service_id}:{network_part(fingerprint)}",
        window=settings.TREMOR_DEDUPE_WINDOW_SECONDS,
        cap=settings.TREMOR_DEDUPE_PER_NETWORK,
    )


def _redis() -> RedisCache:
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        raise RuntimeError("dedupe needs the Redis cache")
    return backend


def claim_first_report(*, service_id: int, fingerprint: str, now: datetime) -> bool:
    """True when this report counts (and claims it): first of its reporter, within its network's cap."""
    claim = claim_of(service_id=service_id, fingerprint=fingerprint)
    try:
        keys = [claim.reporter_key, claim.network_key]
        return bool(redis_scripts.run(_redis(), _CLAIM_LUA, keys=keys, args=[claim.window, claim.cap]))
    except Exception as exc:  # redis-py raises several ConnectionError/TimeoutError types
        log.warning("dedupe: Redis unavailable (%s), checking the database", exc)
        # Live reports have observed_at == received_at, and this uses the
        # (service, observed_at) index instead of needing one of its own.
        recent = Report.objects.filter(service_id=service_id, observed_at__gte=now - timedelta(seconds=claim.window))
        if recent.filter(fingerprint=fingerprint).exists():
            return False
        return recent.filter(fingerprint__startswith=network_part(fingerprint)).count() < claim.cap


def release_claim(*, service_id: int, fingerprint: str) -> None:
    """Undo a claim when the report could not be stored, so a retry counts."""
    claim = claim_of(service_id=service_id, fingerprint=fingerprint)
    try:
        redis_scripts.run(_redis(), _RELEASE_LUA, keys=[claim.reporter_key, claim.network_key], args=[])
    except Exception:  # Redis gone: the claim expires on its own
        log.warning("dedupe: could not release claim", exc_info=True)
