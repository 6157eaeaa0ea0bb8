"""A real HTTP webhook receiver on 127.0.0.1 for tests: records requests, answers from a script."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """`behaviour(path, attempt_no) -> (status, delay_seconds)` decides each answer."""

    behaviour: object = None
    requests: list[Received] = field(default_factory=list)
    host: str = "127.0.0.1"  # any loopback address (127.0.0.2: a second host on the same port)
    port: int = 0

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                item = Received(self.path, dict(self.headers.items()), body, time.monotonic())
                with receiver.lock:
                    receiver.requests.append(item)
                    count = sum(1 for r in receiver.requests if r.path == self.path)
                status, delay = receiver.behaviour(self.path, count) if receiver.behaviour else (200, 0)
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender gave up (timeout)

            def log_message(self, *args):
                pass

        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def wait_for(self, predicate, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
