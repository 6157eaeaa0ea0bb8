"""The outbound target policy shared by everything that calls out (webhooks, official status polling).

Resolve once, check every resolved address, connect only to the address that was checked:
a second lookup is what DNS rebinding exploits (public at the check, loopback or metadata
at the connect).
"""

import http.client
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit


class TargetRefused(ValueError):
    pass


@dataclass(frozen=True)
class Target:
    parts: SplitResult
    port: int
    address: str  # the resolved address that was checked: the only one we connect to


def parse_url(url: str) -> tuple[SplitResult, int]:
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError past 65535 or when not a number
    except ValueError as exc:
        raise TargetRefused(f"invalid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("URL must be http:// or https:// with a host")
    return parts, port or (443 if parts.scheme == "https" else 80)


def resolve_target(url: str, *, allow_private: bool, allow_link_local: bool = True) -> Target:
    """Parse and resolve once; refuse what is not http(s), and (unless allowed) non-public addresses.

    `allow_link_local=False` refuses 169.254.0.0/16 and fe80::/10 even when private targets are
    allowed (development, tests): the cloud metadata service lives there and no status page does.
    """
    parts, port = parse_url(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"cannot resolve {parts.hostname}: {exc}") from None
    if not infos:
        raise TargetRefused(f"cannot resolve {parts.hostname}")
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not allow_link_local and address.is_link_local:
            raise TargetRefused(f"{parts.hostname} resolves to a link-local address")
        if not allow_private and not address.is_global:
            # Calling out must not become a way to reach our own network.
            raise TargetRefused(f"{parts.hostname} resolves to a non-public address")
    return Target(parts=parts, port=port, address=infos[0][4][0])


class PinnedHTTP(http.client.HTTPConnection):
    """Connects to `address`, never resolving the host again."""

    def __init__(self, host, port, *, address: str, timeout: float, sockets: list):
        super().__init__(host, port, timeout=timeout)
        self._address, self._sockets = address, sockets

    def raw_socket(self) -> socket.socket:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self._sockets.append(sock)
        return sock

    def connect(self):
        self.sock = self.raw_socket()


class PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address: str, timeout: float, sockets: list):
        super().__init__(host, port, timeout=timeout)
        self._address, self._sockets = address, sockets

    raw_socket = PinnedHTTP.raw_socket

    def connect(self):
        # The certificate is still checked against the host name, not the address.
        self.sock = self._context.wrap_socket(self.raw_socket(), server_hostname=self.host)


def connection_for(target: Target, *, timeout: float, sockets: list) -> http.client.HTTPConnection:
    cls = PinnedHTTPS if target.parts.scheme == "https" else PinnedHTTP
    return cls(target.parts.hostname, target.port, address=target.address, timeout=timeout, sockets=sockets)


def abort_sockets(sockets: list) -> None:
    for sock in sockets:
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv: the overall deadline is reached
        except OSError:
            pass
