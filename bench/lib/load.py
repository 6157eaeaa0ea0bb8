"""HTTP load from one asyncio loop: paced (open-loop) streams and a closed loop, at little CPU.

gunicorn's sync workers close the connection after every answer, so each request
is its own loopback connection (as wrk's are against them). The open loop sends
request i of a stream at start + i/rate whatever the answers do, and times each
from that due moment, so a slow server cannot hide its queue by slowing the
client (coordinated omission). Every request's bytes come from the stream's
`make(i)`; the bodies of 201 answers are kept for the caller's accounting.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

LATE_S = 0.1  # started this long after its due moment: the client, not the server, was short of room


@dataclass
class Stream:
    name: str
    rate: float  # requests per second (open loop); ignored by the closed loop
    make: Callable[[int], bytes]
    keep_201: bool = False


@dataclass
class Tally:
    sent: int = 0
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)  # seconds, from the due moment
    errors: int = 0  # no answer (refused, reset, timed out): not acknowledged
    late: int = 0
    created: list[bytes] = field(default_factory=list)  # bodies of 201 answers, when kept

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    def percentile_ms(self, q: float, *, since: int = 0) -> float:
        """Of the answers after the first `since` (answers are kept in the order they came)."""
        if len(self.latencies) <= since:
            return 0.0
        ordered = sorted(self.latencies[since:])
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def unexpected(self, *expected: int) -> int:
        """Answers with another status than `expected`, and requests without an answer."""
        return self.errors + sum(n for s, n in self.statuses.items() if s not in expected)


def post_json(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", "Content-Type: application/json",
             f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


class _Exchange(asyncio.Protocol):
    """One request on its own connection: write it, read until the server closes (cheaper than streams)."""

    def __init__(self, data: bytes, done: asyncio.Future) -> None:
        self.data, self.done, self.chunks = data, done, []

    def connection_made(self, transport) -> None:
        transport.write(self.data)

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)

    def connection_lost(self, exc) -> None:
        if self.done.done():
            return
        if exc is not None:
            self.done.set_exception(exc)
        else:
            self.done.set_result(b"".join(self.chunks))


def _expire(transport, done: asyncio.Future) -> None:
    if not done.done():
        done.set_exception(TimeoutError("no complete answer in time"))
    transport.abort()


async def _send(port: int, data: bytes, timeout: float) -> tuple[int, bytes]:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    connect = loop.create_connection(lambda: _Exchange(data, done), "127.0.0.1", port)
    transport, _ = await asyncio.wait_for(connect, timeout)
    timer = loop.call_later(timeout, _expire, transport, done)
    try:
        raw = await done
    finally:
        timer.cancel()
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/"):
        raise ValueError("no HTTP answer")
    return int(head[9:12]), body


async def _one(port: int, stream: Stream, tally: Tally, i: int, due: float, timeout: float) -> None:
    tally.sent += 1
    try:
        status, body = await _send(port, stream.make(i), timeout)
    except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError):
        tally.errors += 1
        return
    tally.latencies.append(time.monotonic() - due)
    tally.statuses[status] += 1
    if status == 201 and stream.keep_201:
        tally.created.append(body)


Progress = Callable[[float, dict[str, Tally]], None]


def open_loop(
    port: int, streams: list[Stream], seconds: float, *, progress: Progress | None = None, every: float = 5.0,
    max_in_flight: int = 512, timeout: float = 30.0,
) -> dict[str, Tally]:  # fmt: skip
    """Each stream at its rate for `seconds`; waits for every answer. `progress(elapsed, tallies)` every `every` s."""
    return asyncio.run(_open_loop(port, streams, seconds, progress, every, max_in_flight, timeout))


async def _open_loop(port, streams, seconds, progress, every, max_in_flight, timeout) -> dict[str, Tally]:
    tallies = {s.name: Tally() for s in streams}
    nexts = {s.name: 0 for s in streams}
    in_flight: set[asyncio.Task] = set()
    start = time.monotonic() + 0.1
    end, next_report = start + seconds, start + every
    while True:
        now = time.monotonic()
        if progress is not None and now >= next_report:
            progress(now - start, tallies)
            next_report += every
        for s in streams:
            while (due := start + nexts[s.name] / s.rate) <= now and due < end and len(in_flight) < max_in_flight:
                if now - due > LATE_S:
                    tallies[s.name].late += 1
                task = asyncio.create_task(_one(port, s, tallies[s.name], nexts[s.name], due, timeout))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                nexts[s.name] += 1
        pending = [start + nexts[s.name] / s.rate for s in streams]
        if min(pending) >= end:
            break
        wake = min(min(pending), next_report if progress else end)
        await asyncio.sleep(max(0.0005, wake - time.monotonic()))
    if in_flight:
        await asyncio.wait(list(in_flight))
    return tallies


def once(port: int, requests: list[bytes], *, clients: int, timeout: float = 60.0) -> Tally:
    """Each request once, `clients` at a time (warming caches before a measurement)."""

    async def main() -> Tally:
        tally, queue = Tally(), list(reversed(requests))
        stream = Stream("once", 1.0, lambda i: queue.pop())

        async def client() -> None:
            while queue:
                await _one(port, stream, tally, 0, time.monotonic(), timeout)

        await asyncio.gather(*(client() for _ in range(clients)))
        return tally

    return asyncio.run(main())


def closed_loop(port: int, streams: list[Stream], seconds: float, *, clients: int, timeout: float = 30.0):
    """`clients` senders back to back for `seconds`, each taking the streams in turn by their rates' shares.

    Returns (answered requests per second, {stream: Tally}): the capacity of this mix.
    """
    return asyncio.run(_closed_loop(port, streams, seconds, clients, timeout))


async def _closed_loop(port, streams, seconds, clients, timeout):
    tallies = {s.name: Tally() for s in streams}
    total = sum(s.rate for s in streams)
    counts = dict.fromkeys(tallies, 0)
    started = time.monotonic()
    deadline = started + seconds

    async def client() -> None:
        while time.monotonic() < deadline:
            # The stream furthest behind its share of the mix goes next.
            s = min(streams, key=lambda s: counts[s.name] * total / s.rate)
            i, counts[s.name] = counts[s.name], counts[s.name] + 1
            await _one(port, s, tallies[s.name], i, time.monotonic(), timeout)

    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.monotonic() - started
    return sum(t.answered for t in tallies.values()) / elapsed, tallies
