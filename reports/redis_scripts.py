"""Lua scripts on the default Redis cache: one round trip, atomic across web workers."""

import hashlib

import redis as redis_py
from django.core.cache.backends.redis import RedisCache

_registered: dict[tuple[int, str], object] = {}


def run(backend: RedisCache, script: str, *, keys: list[str], args: list) -> list:
    """Run `script` with cache keys (made with the cache's prefix) and arguments."""
    client = backend._cache.get_client(keys[0], write=True)
    slot = (id(client.connection_pool), script)
    if slot not in _registered:
        _registered[slot] = client.register_script(script)
    # make_key, not make_and_validate_key: these keys are ours (scope + a hex digest),
    # and the memcached-safety scan costs more than it could ever catch here.
    return _registered[slot](keys=[backend.make_key(k) for k in keys], args=args, client=client)


class NotRun(Exception):
    """Redis certainly did not run the script: no connection, the command not (wholly) sent, or an error reply."""


class OutcomeUnknown(Exception):
    """The script was sent but no attempt got its reply: it may have run (and written), or not."""


# A reply that is late is not a reply that is lost: with `appendfsync always` Redis answers a
# write only after its fsync, and a busy disk can hold that past the cache's 0.5 s socket timeout.
# Then the script has run (or will, once Redis reads the socket): a caller must not take it for
# "Redis down". run_once() sends the same idempotent call again with these longer timeouts:
# 0.5 + 1 + 2 s is the longest a request waits, under every HTTP client's timeout and gunicorn's.
RETRY_TIMEOUTS = (1.0, 2.0)
_patient_pools: dict[tuple[str, float], redis_py.ConnectionPool] = {}
_shas: dict[str, str] = {}


def _patient_pool(backend: RedisCache, timeout: float) -> redis_py.ConnectionPool:
    """A pool whose reads (the connection's handshake too) wait `timeout`: only retries use it."""
    url = backend._cache._servers[0]
    slot = (url, timeout)
    if slot not in _patient_pools:
        _patient_pools[slot] = redis_py.ConnectionPool.from_url(url, socket_connect_timeout=0.5, socket_timeout=timeout)
    return _patient_pools[slot]


def _attempt(pool: redis_py.ConnectionPool, script: str, sha: str, keys: list[str], args: list):
    """One EVALSHA (EVAL if Redis lacks the script). NotRun when the command surely did not reach Redis."""
    try:
        conn = pool.get_connection()
    except redis_py.RedisError as exc:  # refused, or the handshake of a new connection failed: nothing sent
        raise NotRun(f"{type(exc).__name__}: {exc}") from exc
    try:
        for command in ("EVALSHA", "EVAL"):
            try:
                # sendall() either hands Redis the whole command or raises: a write error means not run.
                conn.send_command(command, sha if command == "EVALSHA" else script, len(keys), *keys, *args)
            except redis_py.RedisError as exc:
                raise NotRun(f"{type(exc).__name__}: {exc}") from exc
            try:
                return conn.read_response()
            except redis_py.exceptions.NoScriptError:
                continue  # replied without running: send the script itself
            except redis_py.ResponseError as exc:  # the script's error, replied: treated as not done
                raise NotRun(f"{type(exc).__name__}: {exc}") from exc
            except redis_py.RedisError as exc:  # a timeout or a reset after the send: it may have run
                raise OutcomeUnknown(f"{type(exc).__name__}: {exc}") from exc
        raise NotRun("Redis answered NOSCRIPT to EVAL")
    except BaseException:
        conn.disconnect()  # a reply may still come on this socket: never hand it to another call
        raise
    finally:
        pool.release(conn)


def run_once(backend: RedisCache, script: str, *, keys: list[str], args: list) -> list:
    """Run an idempotent `script` (a repeat returns the first run's outcome), retrying while its outcome is unknown.

    NotRun when Redis surely did not run it (the caller may do the work another way);
    OutcomeUnknown when it may have, and no retry got an answer (the caller must not).
    """
    sha = _shas.get(script) or _shas.setdefault(script, hashlib.sha1(script.encode()).hexdigest())
    keys = [backend.make_key(k) for k in keys]
    unknown: OutcomeUnknown | None = None
    for timeout in (None, *RETRY_TIMEOUTS):
        pool = backend._cache._get_connection_pool(True) if timeout is None else _patient_pool(backend, timeout)
        try:
            return _attempt(pool, script, sha, keys, args)
        except OutcomeUnknown as exc:
            unknown = exc
        except NotRun:
            if unknown is None:
                raise
    raise unknown
