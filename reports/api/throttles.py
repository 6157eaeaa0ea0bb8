"""Throttles of intake and reads, keyed by the client's network (an IPv4 address or an IPv6 /64).

Redis keeps the sliding windows, shared by every web worker. While Redis is
down each process keeps its own (`LocalWindows`): a limit per worker is looser
than one per site, but far from none.
"""

import logging
import math
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from common.metrics import report_outcome
from reports import intake_log, redis_scripts
from reports.dedupe import Claim
from reports.fingerprint import client_network
from reports.models import RATE_RE

log = logging.getLogger(__name__)

# DRF's sliding window (drop stamps older than the window, refuse when full, else
# add one) in one atomic round trip instead of a GET and a SET (bench/README.md).
# A sorted set of stamps also closes the GET/SET race between web workers.
# With three more keys, an admitted request also claims its dedupe keys
# (reports.dedupe) and appends a counted report to the intake log (reports.intake_log):
# single-report intake pays one Redis round trip, and Redis answers once the entry is
# fsynced. That call is idempotent (intake_log.CLAIM_ONCE_LUA): a repeat of a request
# that already ran returns its outcome before the window is looked at, so a late reply
# retried (redis_scripts.run_once) neither appends twice nor throttles itself.
_WINDOW_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[3]) then
  return {0, n, redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2], 0, ''}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
"""
_SLIDING_WINDOW_LUA = _WINDOW_LUA + "return {1, n + 1, '0', 0, ''}"
_WINDOW_AND_CLAIM_LUA = (
    intake_log.CLAIM_ONCE_LUA
    + """
local held = redis.call('GET', KEYS[2])
local first, id = outcome_of(held, ARGV[8])
if first then
  return {1, 0, '0', first, id}
end
"""
    + _WINDOW_LUA
    + """
first, id = claim_once(held, KEYS[2], KEYS[3], ARGV[6], ARGV[7], ARGV[8], KEYS[4], ARGV[9])
return {1, n + 1, '0', first, id}
"""
)


@dataclass
class Admission:
    allowed: bool
    claimed: bool | None = None  # None: the claim was not attempted here (no claim, or Redis down)
    entry: str = ""  # the intake log's entry id when the report was appended to it


def _sliding_window(
    cache: RedisCache, key: str, *, now: float, duration: int, limit: int, claim: Claim | None = None,
    entry: str = "",
) -> tuple[bool, int, float, bool, str]:  # fmt: skip
    """(allowed, requests in the window, oldest stamp, claimed, log entry id) for one more request.

    `claim`: the dedupe claim to take once the request is admitted; `entry`: the
    encoded report to append to the intake log once claimed ("": none).
    Without a claim, any failure raises (the caller throttles locally). With one:
    redis_scripts.NotRun when Redis surely did not run it, OutcomeUnknown when it may have.
    """
    rid = intake_log.request_id()
    args = [repr(now), duration, limit, f"{now!r}-{rid}", math.ceil(duration * 1000)]
    if claim is None:
        reply = redis_scripts.run(cache, _SLIDING_WINDOW_LUA, keys=[key], args=args)
    else:
        keys = [key, claim.reporter_key, claim.network_key, intake_log.STREAM]
        args += [claim.window, claim.cap, rid, entry]
        reply = redis_scripts.run_once(cache, _WINDOW_AND_CLAIM_LUA, keys=keys, args=args)
    allowed, count, oldest, claimed, logged = reply
    return bool(allowed), int(count), float(oldest), bool(claimed), logged.decode() if logged else ""


class LocalWindows:
    """Sliding windows in this process, for while Redis is down.

    At most `max_keys` clients are remembered (the least recently seen are
    forgotten first), so a flood from many networks cannot exhaust memory.
    """

    def __init__(self, max_keys: int = 10_000):
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._stamps: OrderedDict[str, deque] = OrderedDict()

    def allow(self, key: str, *, now: float, duration: float, limit: int) -> tuple[bool, list[float]]:
        """(allowed, the window's stamps newest first, as DRF's `history`)."""
        with self._lock:
            stamps = self._stamps.pop(key, None) or deque()
            while stamps and stamps[0] <= now - duration:
                stamps.popleft()
            allowed = len(stamps) < limit
            if allowed:
                stamps.append(now)
            self._stamps[key] = stamps
            while len(self._stamps) > self.max_keys:
                self._stamps.popitem(last=False)
            return allowed, list(reversed(stamps))

    def clear(self) -> None:
        with self._lock:
            self._stamps.clear()


local_windows = LocalWindows()


class _NetworkThrottle(SimpleRateThrottle):
    """DRF's throttle over Redis, keyed by network, with the local fallback."""

    def get_ident(self, request):
        # Like dedupe: every address of one IPv6 /64 is one client.
        return client_network(request)

    def _window(self, *, limit: int, duration: int, claim: Claim | None = None, entry: str = "") -> Admission:
        self.now = self.timer()
        try:
            backend = caches["default"]  # DRF's `self.cache` is the proxy in front of it
            if not isinstance(backend, RedisCache):
                raise RuntimeError("no Redis cache")
            allowed, count, oldest, claimed, logged = _sliding_window(
                backend, self.key, now=self.now, duration=duration, limit=limit, claim=claim, entry=entry
            )
            # What DRF's wait() reads for Retry-After: the window's stamps, oldest last.
            self.history = [] if allowed else [oldest] * count
            return Admission(allowed, claimed if allowed and claim is not None else None, logged)
        except Exception as exc:
            if entry and isinstance(exc, redis_scripts.OutcomeUnknown):
                # It may be in the log: any other way of storing it could store it twice.
                log.error("intake: Redis did not confirm the append (%s): answering 503", exc)
                raise intake_log.Unconfirmed(str(exc)) from exc
            # Down, or late with nothing to append: throttle here; the caller's fallback stores it once.
            log.warning("throttle: Redis unavailable (%s), throttling in this process", exc)
            allowed, self.history = local_windows.allow(self.key, now=self.now, duration=duration, limit=limit)
            return Admission(allowed)


class ReportSubmitThrottle(_NetworkThrottle):
    """Per-network limit on single-report intake (TREMOR_REPORT_THROTTLE)."""

    scope = "report_submit"
    source = "api"  # the metrics' label (common.metrics)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view):
        return self.allow_and_claim(request, view, claim=None).allowed

    def allow_and_claim(self, request, view, *, claim: Claim | None, entry: str = "") -> Admission:
        """Throttle, claim, and append `entry` to the intake log when claimed, in one Redis call.

        Redis down: the local windows decide, the claim is left to the caller's fallback.
        """
        if self.rate is None:
            # No throttle: the claim and the append still go to Redis in one call.
            if claim is None:
                return Admission(True)
            claimed, logged = intake_log.claim_and_append(claim, entry)
            return Admission(True, claimed, logged)
        self.key = self.get_cache_key(request, view)
        admission = self._window(limit=self.num_requests, duration=self.duration, claim=claim, entry=entry)
        if not admission.allowed:
            report_outcome(source=self.source, outcome="throttled")
        return admission


class ReportFormThrottle(ReportSubmitThrottle):
    """Per-network limit on the web report form (TREMOR_FORM_THROTTLE).

    Looser than the API: people behind one carrier NAT all report during an
    outage; dedupe still counts each device once and a network a few times.
    """

    scope = "report_form"
    source = "web"


class _TokenKeyedThrottle(_NetworkThrottle):
    """Keyed by API token when there is one, else by client network.

    Rates are read per request (the token's own override, else the setting).
    """

    token_rate_field = ""
    anon_scope = ""

    def __init__(self):  # the rate depends on the request: chosen in allow_request
        pass

    def _rate_for(self, request) -> tuple[str, str | None]:
        rates = api_settings.DEFAULT_THROTTLE_RATES
        token = getattr(request, "auth", None)
        if token is not None and hasattr(token, "prefix"):
            own = getattr(token, self.token_rate_field)
            if own and not RATE_RE.fullmatch(own):
                # Stored before the field was validated: the default, not a 500 on every call.
                log.warning("token %s: ignoring malformed %s %r", token.prefix, self.token_rate_field, own)
                own = ""
            return f"token-{token.pk}", own or rates.get(self.scope)
        return f"anon-{self.get_ident(request)}", rates.get(self.anon_scope or self.scope)

    def allow_request(self, request, view):
        ident, self.rate = self._rate_for(request)
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.cache_format % {"scope": self.scope, "ident": ident}
        return self._window(limit=self.num_requests, duration=self.duration).allowed


class ReadThrottle(_TokenKeyedThrottle):
    """Reads (GET/HEAD): `read_token` per token, `read_anon` per anonymous network."""

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
