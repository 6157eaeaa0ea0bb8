"""One webhook POST to the address that was checked, within a true overall deadline; the target policy."""

import http.client
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

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


@dataclass(frozen=True)
class Target:
    parts: SplitResult
    port: int
    address: str  # the resolved address that was checked: the only one we connect to


def _parse(url: str) -> tuple[SplitResult, int]:
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError past 65535 or when not a number
    except ValueError as exc:
        raise TargetRefused(f"invalid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("URL must be http:// or https:// with a host")
    return parts, port or (443 if parts.scheme == "https" else 80)


def resolve_target(url: str, *, allow_private: bool) -> Target:
    """Parse and resolve once; refuse what is not http(s), and (unless allowed) non-public addresses."""
    parts, port = _parse(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"cannot resolve {parts.hostname}: {exc}") from None
    if not infos:
        raise TargetRefused(f"cannot resolve {parts.hostname}")
    if not allow_private:
        for info in infos:
            if not ipaddress.ip_address(info[4][0].split("%")[0]).is_global:
                # Webhooks must not become a way to reach our own network.
                raise TargetRefused(f"{parts.hostname} resolves to a non-public address")
    return Target(parts=parts, port=port, address=infos[0][4][0])


def check_target(url: str, *, allow_private: bool) -> None:
    """At subscription time: a well-formed URL, and (unless allowed) a public one. Each delivery checks again."""
    if allow_private:
        _parse(url)
    else:
        resolve_target(url, allow_private=False)


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to `address`, never resolving the host again: a second lookup is what
    DNS rebinding exploits (public at the check, loopback or metadata at the connect)."""

    def __init__(self, host, port, *, address: str, timeout: float, sockets: list):
        super().__init__(host, port, timeout=timeout)
        self._address, self._sockets = address, sockets

    def _raw(self) -> socket.socket:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self._sockets.append(sock)
        return sock

    def connect(self):
        self.sock = self._raw()


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address: str, timeout: float, sockets: list):
        super().__init__(host, port, timeout=timeout)
        self._address, self._sockets = address, sockets

    _raw = _PinnedHTTP._raw

    def connect(self):
        # The certificate is still checked against the host name, not the address.
        self.sock = self._context.wrap_socket(self._raw(), server_hostname=self.host)


def _abort(sockets: list) -> None:
    for sock in sockets:
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv: the overall deadline is reached
        except OSError:
            pass


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float, allow_private: bool) -> Outcome:
    """POST within `timeout` seconds in all (connect, send, every read): then the socket is shut.

    A socket timeout alone bounds each read, so a receiver dripping one byte
    at a time could hold a delivery past its lease (and it would go out twice).
    """
    started = time.monotonic()
    target = resolve_target(url, allow_private=allow_private)
    parts = target.parts
    sockets: list[socket.socket] = []
    cls = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    conn = cls(parts.hostname, target.port, address=target.address, timeout=timeout, sockets=sockets)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    watchdog = threading.Timer(max(0.0, started + timeout - time.monotonic()), _abort, [sockets])
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
