"""The durable intake log: counted single reports wait in a Redis Stream until the flusher stores them.

Single-report intake appends a report to the stream in the same Lua call that
throttles and claims it (reports.api.throttles), and answers 201 once Redis has
it on disk; `reports.flusher` moves the stream into the database in batches.
That needs Redis to fsync every write before it replies (AOF with `appendfsync
always`): Tremor checks that itself, and while it is not in force intake
stores each report with a direct INSERT instead (`mode()` says which, and why).

Readers (analytics.selectors, reports.selectors) add the entries still in the
log to what they count, each exactly once (`count_once`).
"""

import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import redis as redis_py
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from . import redis_scripts
from .dedupe import Claim

log = logging.getLogger(__name__)

STREAM = "intake:log"
GROUP = "flushers"
# ms * 1e6 + sequence: an entry id "1701490000000-5" as one sortable bigint (Report.log_entry).
_SEQ = 1_000_000
CHECK_EVERY_SECONDS = 10.0


def backend() -> RedisCache:
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        raise RuntimeError("the intake log needs the Redis cache")
    return cache


def client():
    return backend()._cache.get_client(None, write=True)


_blocking: dict[str, object] = {}


def blocking_client(block_seconds: float):
    """A client for the flusher's blocking reads: the cache's socket timeout (0.5 s) is shorter than a block."""
    url = settings.CACHES["default"]["LOCATION"]
    if url not in _blocking:
        client = redis_py.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=block_seconds + 5)
        # The flusher reads XREADGROUP's reply as it comes: redis-py's callback builds a dict
        # per entry, a third of the flusher's time for 2,000 entries (bench/README.md).
        client.response_callbacks.pop("XREADGROUP", None)
        _blocking[url] = client
    return _blocking[url]


def stream_key() -> str:
    return backend().make_key(STREAM)


def entry_number(entry_id: bytes | str) -> int:
    ms, seq = entry_id.split(b"-" if isinstance(entry_id, bytes) else "-")
    return int(ms) * _SEQ + int(seq)


def entry_ms(number: int) -> int:
    return number // _SEQ


@dataclass(frozen=True)
class Mode:
    logged: bool  # True: single reports go to the log; False: direct INSERT
    reason: str


_mode_lock = threading.Lock()
_mode: tuple[float, Mode] | None = None


def _durability(redis) -> Mode:
    """Is every write fsynced before Redis answers? Read from the server, not from our settings."""
    fsync = redis.config_get("appendfsync").get("appendfsync")
    info = redis.info("persistence")
    if not info.get("aof_enabled"):
        return Mode(False, "Redis has no AOF (appendonly no)")
    if fsync != "always":
        return Mode(False, f"Redis appendfsync is {fsync!r}, not 'always'")
    if info.get("aof_last_write_status") != "ok":
        return Mode(False, "Redis's last AOF write failed")
    return Mode(True, "Redis AOF with appendfsync always")


def mode(*, fresh: bool = False) -> Mode:
    """Whether intake uses the log now; checked against Redis at most every CHECK_EVERY_SECONDS."""
    global _mode
    if settings.TREMOR_INTAKE_LOG == "off":
        return Mode(False, "TREMOR_INTAKE_LOG=off")
    now = time.monotonic()
    cached = _mode
    if not fresh and cached is not None and now - cached[0] < CHECK_EVERY_SECONDS:
        return cached[1]
    with _mode_lock:
        try:
            current = _durability(client())
        except Exception as exc:  # down, or CONFIG renamed away by a managed Redis: not proven durable
            current = Mode(False, f"cannot check Redis durability ({type(exc).__name__}: {exc})"[:200])
        if not current.logged and (cached is None or cached[1] != current):
            log.warning("intake log not used, reports are INSERTed one by one: %s", current.reason)
        _mode = (now, current)
    return current


# COPY's text format escapes (a comment may hold tabs and newlines): the payload is a COPY line.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_UNESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}
# The payload's columns, in order, then the feature's slug (for readers, not stored).
COLUMNS = ["feature_id", "service_id", "code", "country", "region", "observed_at", "source", "comment", "fingerprint"]


def encode(
    *, service_id: int, feature_id: int, feature_slug: str, code: str, country: str, region: str,
    observed_at: datetime, source: str, comment: str, fingerprint: str,
) -> str:  # fmt: skip
    """One report as the start of a PostgreSQL COPY text line: the flusher adds two columns and sends it as is."""
    return "\t".join([str(feature_id), str(service_id), code, country, region, observed_at.isoformat(), source,
                      comment.translate(_ESCAPES), fingerprint, feature_slug])  # fmt: skip


def unescape(text: str) -> str:
    return _UNESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)), text) if "\\" in text else text


class Entry(NamedTuple):  # a tuple, not a dataclass: the flusher makes thousands a second
    number: int
    payload: str  # encode()'s line

    @property
    def fields(self) -> list[str]:
        return self.payload.split("\t")

    @property
    def copy_line(self) -> str:
        """The payload's COPY columns (COLUMNS), without the feature slug."""
        return self.payload.rsplit("\t", 1)[0]

    @property
    def feature_id(self) -> int:
        return int(self.payload[: self.payload.index("\t")])


@dataclass(frozen=True)
class Counted:
    """What readers need of an entry."""

    number: int
    service_id: int
    feature_slug: str
    code: str
    country: str
    region: str
    observed_at: datetime


def decode(entry_id: bytes, fields: dict) -> Entry:
    return Entry(entry_number(entry_id), fields[b"r"].decode())


def counted(entry: Entry) -> Counted:
    f, s, code, country, region, at, _source, _comment, _fp, slug = entry.fields
    return Counted(entry.number, int(s), slug, code, country, region, datetime.fromisoformat(at))


# claim_once(held, reporter, network, window, cap, rid, stream, entry) -> first, entry id.
# `held`: the reporter key's value, read by the caller in the same script. The reporter key
# keeps "rid first entry-id" of the request that took it, so a request sent again because
# its reply was late (redis_scripts.run_once) gets its first outcome back from
# outcome_of() and appends nothing: one report, one entry, however often it is sent.
# The reporter key is set even when the network is full: that device's repeats stay repeats.
CLAIM_ONCE_LUA = """
local function outcome_of(held, rid)
  if held then
    local first, id = string.match(held, '^' .. rid .. ' (%d) (.*)$')
    if first then
      return tonumber(first), id
    end
  end
  return nil, ''
end
local function claim_once(held, reporter, network, window, cap, rid, stream, entry)
  if held then
    return 0, ''
  end
  local first, id = 0, ''
  local used = redis.call('INCR', network)
  if used == 1 then
    redis.call('EXPIRE', network, window)
  end
  if used <= tonumber(cap) then
    first = 1
    if entry ~= '' then
      id = redis.call('XADD', stream, '*', 'r', entry)
    end
  end
  redis.call('SET', reporter, rid .. ' ' .. first .. ' ' .. id, 'EX', window)
  return first, id
end
"""
_CLAIM_AND_APPEND_LUA = (
    CLAIM_ONCE_LUA
    + """
local held = redis.call('GET', KEYS[1])
local first, id = outcome_of(held, ARGV[3])
if not first then
  first, id = claim_once(held, KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], KEYS[3], ARGV[4])
end
return {first, id}
"""
)


class Unconfirmed(Exception):
    """Redis may have logged the report but did not say so in time: answer 503, and store it no other way."""


RETRY_AFTER_UNCONFIRMED = "5"  # seconds: the reply was late (a slow fsync), Redis is likely still up


def request_id() -> str:
    """Names one intake request in its Redis calls: a repeat of the call is recognised (CLAIM_ONCE_LUA)."""
    return secrets.token_hex(6)  # unique among one reporter's requests of a window: ample


def claim_and_append(claim: Claim, entry: str) -> tuple[bool | None, str]:
    """(claimed, entry id): claim, and append `entry` ("": none) when claimed, in one call.

    (None, "") when Redis surely did not run the call (down): the caller checks dedupe
    in the database and INSERTs. Unconfirmed when it may have appended `entry`.
    """
    keys = [claim.reporter_key, claim.network_key, STREAM]
    try:
        claimed, logged = redis_scripts.run_once(backend(), _CLAIM_AND_APPEND_LUA, keys=keys,
                                                 args=[claim.window, claim.cap, request_id(), entry])  # fmt: skip
    except redis_scripts.OutcomeUnknown as exc:
        if entry:
            log.error("intake: Redis did not confirm the append (%s): answering 503", exc)
            raise Unconfirmed(str(exc)) from exc
        # Nothing was to be appended: whatever ran, the report is stored nowhere yet.
        log.warning("intake: Redis did not answer (%s), checking dedupe in the database", exc)
        return None, ""
    except Exception as exc:
        log.warning("intake: Redis unavailable (%s), checking dedupe in the database", exc)
        return None, ""
    return bool(claimed), logged.decode() if isinstance(logged, bytes) else logged


def entries() -> list[Entry]:
    return [decode(i, f) for i, f in client().xrange(stream_key())]


def unflushed() -> list[Counted]:
    """Every entry still in the log (not yet stored); [] while Redis is down (it cannot be read)."""
    try:
        return [counted(e) for e in entries()]
    except Exception as exc:
        log.warning("intake log unreadable (%s): counting the database only", exc)
        return []


def oldest_observed_at() -> datetime | None:
    """When the oldest report still in the log was observed; None if none (or Redis is down)."""
    try:
        oldest = client().xrange(stream_key(), count=1)
    except Exception:
        return None
    return counted(decode(*oldest[0])).observed_at if oldest else None


def count_once(entries: list[Counted], count_db: Callable[[], object], flushed: Callable[[int], set[int]]):
    """(count_db(), the entries not in the database) with no entry counted twice or missed.

    `flushed(first)`: numbers (Report.log_entry) >= first already in the database.
    The flusher may commit some of `entries` while count_db() runs: the stored set is
    read before and after it, and the whole read is retried when it moved.
    """
    if not entries:
        return count_db(), []
    first = min(e.number for e in entries)
    for _ in range(5):
        before = flushed(first)
        counted = count_db()
        after = flushed(first)
        if before == after:
            break
    # Still moving after five tries (a flusher catching up): `after` errs on counting a report once less.
    return counted, [e for e in entries if e.number not in after]


def lag() -> dict:
    """The oldest unflushed entry's age and the log's length (service status, admin, readiness)."""
    redis = client()
    key = stream_key()
    length = redis.xlen(key)
    oldest = redis.xrange(key, count=1)
    age = max(0.0, time.time() - entry_ms(entry_number(oldest[0][0])) / 1000) if oldest else 0.0
    return {"unflushed": int(length), "oldest_seconds": round(age, 1)}
