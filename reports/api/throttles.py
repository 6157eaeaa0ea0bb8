import logging
import math
import secrets

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from common.metrics import report_outcome

log = logging.getLogger(__name__)

# DRF's sliding window (drop stamps older than the window, refuse when full, else
# add one) in one atomic round trip instead of a GET and a SET (bench/README.md).
# A sorted set of stamps also closes the GET/SET race between web workers.
# With a second key, an admitted request also claims its dedupe key (SET NX EX):
# single-report intake then pays one Redis round trip, not two.
_SLIDING_WINDOW_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[3]) then
  return {0, n, redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2], 0}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local first = 0
if #KEYS > 1 and redis.call('SET', KEYS[2], 1, 'NX', 'EX', ARGV[6]) then
  first = 1
end
return {1, n + 1, '0', first}
"""
_scripts: dict[int, object] = {}


def _sliding_window(
    cache: RedisCache, key: str, *, now: float, duration: int, limit: int, claim: tuple[str, int] | None = None
) -> tuple[bool, int, float, bool]:
    """(allowed, requests in the window, oldest stamp, claimed) for one more request.

    `claim` = (cache key, seconds): set it if absent once the request is admitted.
    """
    client = cache._cache.get_client(key, write=True)
    pool = id(client.connection_pool)
    if pool not in _scripts:
        _scripts[pool] = client.register_script(_SLIDING_WINDOW_LUA)
    member = f"{now!r}-{secrets.token_hex(4)}"
    # make_key, not make_and_validate_key: these keys are ours (scope + address, a hex
    # digest), and the memcached-safety scan costs more than it could ever catch here.
    keys = [cache.make_key(key)]
    if claim is not None:
        keys.append(cache.make_key(claim[0]))
    allowed, count, oldest, claimed = _scripts[pool](
        keys=keys,
        args=[repr(now), duration, limit, member, math.ceil(duration * 1000), claim[1] if claim else 0],
        client=client,
    )
    return bool(allowed), int(count), float(oldest), bool(claimed)


class ReportSubmitThrottle(SimpleRateThrottle):
    """Per-client limit on single-report intake (TREMOR_REPORT_THROTTLE)."""

    scope = "report_submit"
    source = "api"  # the metrics' label (common.metrics)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view):
        return self.allow_and_claim(request, view, claim=None)[0]

    def allow_and_claim(self, request, view, *, claim: tuple[str, int] | None) -> tuple[bool, bool | None]:
        """(allowed, claimed): claimed is None when the claim was not attempted here.

        Redis down, or no Redis cache: allowed (accepting reports matters more
        than limiting them), claim left to the caller's fallback.
        """
        try:
            backend = caches["default"]  # DRF's `self.cache` is the proxy in front of it
            if self.rate is None or not isinstance(backend, RedisCache):
                return super().allow_request(request, view), None
            self.key = self.get_cache_key(request, view)
            self.now = self.timer()
            allowed, count, oldest, claimed = _sliding_window(
                backend, self.key, now=self.now, duration=self.duration, limit=self.num_requests, claim=claim
            )
            # What DRF's wait() reads for Retry-After: the window's stamps, oldest last.
            self.history = [] if allowed else [oldest] * count
            if not allowed:
                report_outcome(source=self.source, outcome="throttled")
            return allowed, (claimed if allowed and claim is not None else None)
        except Exception as exc:
            log.warning("throttle: Redis unavailable (%s), not throttling", exc)
            return True, None


class ReportFormThrottle(ReportSubmitThrottle):
    """Per-client limit on the web report form (TREMOR_FORM_THROTTLE).

    Looser than the API: people behind one carrier NAT all report during an
    outage, and dedupe (address + user agent) still counts each of them once.
    """

    scope = "report_form"
    source = "web"


class _TokenKeyedThrottle(SimpleRateThrottle):
    """Keyed by API token when there is one, else by client address.

    Rates are read per request (the token's own override, else the setting),
    and a Redis outage lets requests through, like ReportSubmitThrottle.
    """

    token_rate_field = ""
    anon_scope = ""

    def __init__(self):  # the rate depends on the request: chosen in allow_request
        pass

    def _rate_for(self, request) -> tuple[str, str | None]:
        rates = api_settings.DEFAULT_THROTTLE_RATES
        token = getattr(request, "auth", None)
        if token is not None and hasattr(token, "prefix"):
            return f"token-{token.pk}", getattr(token, self.token_rate_field) or rates.get(self.scope)
        return f"anon-{self.get_ident(request)}", rates.get(self.anon_scope or self.scope)

    def allow_request(self, request, view):
        ident, self.rate = self._rate_for(request)
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.cache_format % {"scope": self.scope, "ident": ident}
        try:
            self.history = self.cache.get(self.key, [])
            self.now = self.timer()
            while self.history and self.history[-1] <= self.now - self.duration:
                self.history.pop()
            if len(self.history) >= self.num_requests:
                return self.throttle_failure()
            return self.throttle_success()
        except Exception as exc:  # Redis down: serving reads matters more than limiting them
            log.warning("throttle: Redis unavailable (%s), not throttling", exc)
            return True


class ReadThrottle(_TokenKeyedThrottle):
    """Reads (GET/HEAD): `read_token` per token, `read_anon` per anonymous client."""

    scope = "read_token"
    anon_scope = "read_anon"
    token_rate_field = "read_rate"

    def allow_request(self, request, view):
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)


class BulkIntakeThrottle(_TokenKeyedThrottle):
    """Bulk intake: `bulk` per token (anonymous calls are refused before this matters)."""

    scope = "bulk"
    token_rate_field = "bulk_rate"
