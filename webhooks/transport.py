"""One webhook POST to the address that was checked, within a true overall deadline (policy: common.outbound)."""

import http.client
import socket
import threading
import time
from dataclasses import dataclass

from common.outbound import TargetRefused, abort_sockets, connection_for, parse_url, resolve_target

__all__ = ["Outcome", "TargetRefused", "check_target", "post"]

MAX_RESPONSE_BYTES = 4096


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def check_target(url: str, *, allow_private: bool) -> None:
    """At subscription time: a well-formed URL, and (unless allowed) a public one. Each delivery checks again."""
    if allow_private:
        parse_url(url)
    else:
        resolve_target(url, allow_private=False)


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float, allow_private: bool) -> Outcome:
    """POST within `timeout` seconds in all (connect, send, every read): then the socket is shut.

    A socket timeout alone bounds each read, so a receiver dripping one byte
    at a time could hold a delivery past its lease (and it would go out twice).
    """
    started = time.monotonic()
    target = resolve_target(url, allow_private=allow_private)
    parts = target.parts
    sockets: list[socket.socket] = []
    conn = connection_for(target, timeout=timeout, sockets=sockets)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    watchdog = threading.Timer(max(0.0, started + timeout - time.monotonic()), abort_sockets, [sockets])
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        if time.monotonic() - started >= timeout:
            raise TimeoutError
        return Outcome(response.status, _ms(started))
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        if isinstance(exc, TimeoutError) or time.monotonic() - started >= timeout:
            return Outcome(None, _ms(started), f"timeout after {timeout:g} s")
        return Outcome(None, _ms(started), f"{type(exc).__name__}: {exc}"[:300])
    finally:
        watchdog.cancel()
        conn.close()
        for sock in sockets:
            sock.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
