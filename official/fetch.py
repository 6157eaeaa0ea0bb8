"""One polite GET of a status page: checked target, overall deadline, size limit, conditional, redirects re-checked."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin

from common.outbound import TargetRefused, abort_sockets, connection_for, resolve_target

MAX_REDIRECTS = 3
USER_AGENT = "Tremor-official-status/1 (+crowd outage reports; polls every few minutes)"


class FetchFailed(Exception):
    pass


@dataclass(frozen=True)
class Answer:
    status: int  # 200, or 304 when the validators still hold
    body: bytes
    etag: str
    last_modified: str


def get(url: str, *, validators: dict, timeout: float, max_bytes: int, allow_private: bool) -> Answer:
    """GET `url` within `timeout` seconds in all (every redirect included), reading at most `max_bytes`.

    Every hop is resolved and checked again: a public page redirecting to 127.0.0.1 or to the
    metadata address is refused before any connection. Link-local is refused even in DEBUG.
    """
    deadline = time.monotonic() + timeout
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            target = resolve_target(url, allow_private=allow_private, allow_link_local=False)
        except TargetRefused as exc:
            raise FetchFailed(f"refused {url[:200]}: {exc}") from None
        status, headers, body = _one(target, validators=validators, deadline=deadline, max_bytes=max_bytes)
        if status in (301, 302, 303, 307, 308):
            location = headers.get("location", "")
            if not location:
                raise FetchFailed(f"redirect {status} without a Location")
            url = urljoin(url, location)
            validators = {}  # validators belong to the URL that gave them
            continue
        if status == 304:
            return Answer(304, b"", validators.get("etag", ""), validators.get("last_modified", ""))
        if status != 200:
            raise FetchFailed(f"HTTP {status}")
        return Answer(200, body, headers.get("etag", "")[:200], headers.get("last-modified", "")[:100])
    raise FetchFailed(f"more than {MAX_REDIRECTS} redirects")


def _one(target, *, validators: dict, deadline: float, max_bytes: int) -> tuple[int, dict, bytes]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchFailed("timeout")
    sockets: list[socket.socket] = []
    conn = connection_for(target, timeout=remaining, sockets=sockets)
    path = (target.parts.path or "/") + (f"?{target.parts.query}" if target.parts.query else "")
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json, application/rss+xml, application/atom+xml"}
    if validators.get("etag"):
        headers["If-None-Match"] = validators["etag"]
    if validators.get("last_modified"):
        headers["If-Modified-Since"] = validators["last_modified"]
    # A socket timeout bounds each read only: a server dripping a byte a second would hold the
    # worker for ever. The watchdog shuts the socket at the overall deadline.
    watchdog = threading.Timer(remaining, abort_sockets, [sockets])
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
        declared = answer_headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchFailed(f"answer of {declared} bytes is over the limit of {max_bytes}")
        body = response.read(max_bytes + 1) if response.status == 200 else b""
        if len(body) > max_bytes:
            raise FetchFailed(f"answer is over the limit of {max_bytes} bytes")
        if time.monotonic() >= deadline:
            raise TimeoutError
        return response.status, answer_headers, body
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        if isinstance(exc, TimeoutError) or time.monotonic() >= deadline:
            raise FetchFailed("timeout") from None
        raise FetchFailed(f"{type(exc).__name__}: {exc}"[:300]) from None
    finally:
        watchdog.cancel()
        conn.close()
        for sock in sockets:
            sock.close()
