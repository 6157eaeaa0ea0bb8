"""One webhook POST with a hard overall deadline, and the target address policy."""

import http.client
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_RESPONSE_BYTES = 4096


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class TargetRefused(ValueError):
    pass


def check_target(url: str, *, allow_private: bool) -> None:
    """Refuse what is not http(s), and (unless allowed) hosts that resolve to non-public addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("URL must be http:// or https:// with a host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise TargetRefused(f"cannot resolve {parts.hostname}: {exc}") from None
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_global:
            # Webhooks must not become a way to reach our own network.
            raise TargetRefused(f"{parts.hostname} resolves to a non-public address")


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    parts = urlsplit(url)
    started = time.monotonic()
    deadline = started + timeout
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname, parts.port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", path, body=body, headers=headers)
        # The socket timeout bounds each read; resetting it to what is left keeps the whole call within `timeout`.
        sock = conn.sock  # getresponse() may hand the socket over to the response
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        response = conn.getresponse()
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        response.read(MAX_RESPONSE_BYTES)
        return Outcome(response.status, _ms(started))
    except TimeoutError:
        return Outcome(None, _ms(started), f"timeout after {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(None, _ms(started), f"{type(exc).__name__}: {exc}"[:300])
    finally:
        conn.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
