"""A real status page on 127.0.0.1 for the official-status tests: Statuspage JSON and RSS, misbehaving on demand."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SUMMARY, INCIDENTS, RSS = "/api/v2/summary.json", "/api/v2/incidents.json", "/history.rss"
# What `misbehave[path]` may be set to.
MODES = ("500", "stall", "huge", "badjson", "metadata-redirect")
HUGE_BYTES = 20 * 1024 * 1024
FIRST_MODIFIED = 1637322000  # 19 Nov 2021 11:40 UTC: the first feed's Last-Modified; each new feed a second later


def statuspage_summary(indicator: str = "none", *, updated_at: str, incidents: list | None = None) -> dict:
    return {
        "page": {"id": "tremortest", "name": "Example", "updated_at": updated_at},
        "status": {"indicator": indicator, "description": "All Systems Operational" if indicator == "none" else "!"},
        "components": [],
        "incidents": incidents or [],
    }


def statuspage_incident(ident: str, *, created_at: str, status: str = "investigating", resolved_at=None) -> dict:
    return {
        "id": ident,
        "name": f"Elevated errors ({ident})",
        "status": status,
        "impact": "major",
        "created_at": created_at,
        "resolved_at": resolved_at,
        "shortlink": f"https://stspg.io/{ident}",
    }


def rss(items: list[tuple[str, str, str]]) -> bytes:
    """items: (guid, title, RFC 822 date)."""
    body = "".join(
        f"<item><guid>{g}</guid><title>{t}</title><pubDate>{d}</pubDate><link>https://x.test/{g}</link></item>"
        for g, t, d in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>s</title>{body}</channel></rss>'.encode()


@dataclass
class StatusServer:
    summary: dict = field(default_factory=lambda: statuspage_summary(updated_at="2021-11-19T00:00:00Z"))
    incidents: dict = field(default_factory=lambda: {"incidents": []})
    feed: bytes = field(default_factory=lambda: rss([]))
    misbehave: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, dict]] = field(default_factory=list)
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def body(self, path: str) -> tuple[bytes, str]:
        if path == RSS:
            return self.feed, "application/rss+xml"
        return json.dumps(self.summary if path == SUMMARY else self.incidents).encode(), "application/json"

    def modified(self, etag: str) -> str:
        """A Last-Modified that moves whenever the content does."""
        from email.utils import formatdate

        seen = self.__dict__.setdefault("_seen", {})
        return formatdate(seen.setdefault(etag, FIRST_MODIFIED + len(seen)), usegmt=True)

    def start(self) -> StatusServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append((self.path, dict(self.headers)))
                mode = server.misbehave.get(self.path)
                if mode == "500":
                    return self._answer(500, b"oops", "text/plain")
                if mode == "stall":
                    time.sleep(10)
                if mode == "metadata-redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if mode == "huge":
                    return self._huge()
                body, kind = server.body(self.path)
                if mode == "badjson":
                    body = body[: len(body) // 2] + b"}{"
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                modified = server.modified(etag)
                if self.headers.get("If-None-Match") == etag or (
                    self.path == RSS and self.headers.get("If-Modified-Since") == modified
                ):
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return None
                return self._answer(200, body, kind, etag, modified)

            def _answer(self, status: int, body: bytes, kind: str, etag: str = "", modified: str = ""):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                if etag and self.path == RSS:
                    self.send_header("Last-Modified", modified)  # the feed: dates only, no ETag
                elif etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def _huge(self):
                # No Content-Length: the client must stop reading by itself.
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                chunk = b" " * 65536
                try:
                    for _ in range(HUGE_BYTES // len(chunk)):
                        self.wfile.write(chunk)
                except OSError:
                    pass  # the client hung up at its limit, as it should

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda request, address: None  # clients hanging up at their limits
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
