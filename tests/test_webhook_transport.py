"""The webhook POST: well-formed targets only, connected to the address that was checked, within its deadline."""

import ipaddress
import socket
import threading
import time

import pytest

from tests.support.receiver import Receiver
from webhooks import transport


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com:70000/x",
        "http://hooks.example.com:99999999999/x",
        "http://hooks.example.com:port/x",
        "http://[::1/x",
        "ftp://hooks.example.com/x",
        "http:///x",
    ],
)
def test_a_malformed_url_is_refused_not_a_500(url):
    for allow_private in (True, False):
        with pytest.raises(transport.TargetRefused):
            transport.check_target(url, allow_private=allow_private)


def test_a_subscription_with_a_port_past_65535_is_a_400_naming_the_url(partner):
    response = partner.post("/api/v1/webhooks/", {"url": "https://hooks.example.com:65536/x"}, format="json")
    assert response.status_code == 400 and "url" in response.json()


@pytest.fixture
def two_loopback_receivers():
    """Receivers on 127.0.0.1 and 127.0.0.2, same port: the address that answers is the one connected to."""
    checked = Receiver().start()
    port = checked.server.server_address[1]
    other = Receiver(host="127.0.0.2", port=port).start()
    yield checked, other, port
    for receiver in (checked, other):
        receiver.server.shutdown()
        receiver.server.server_close()


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch, two_loopback_receivers):
    """DNS rebinding: public when checked, internal when connected. Only the checked address is reached."""
    checked, internal, port = two_loopback_receivers
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1"] + ["127.0.0.2"] * 10)

    def rebinding(host, *args, **kwargs):
        if host != "rebind.test":
            return real(host, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    # The test's stand-in for a public address: 127.0.0.1 passes the check, 127.0.0.2 would not.
    monkeypatch.setattr(ipaddress.IPv4Address, "is_global", property(lambda ip: str(ip) == "127.0.0.1"))
    url = f"http://rebind.test:{port}/hook"
    outcome = transport.post(
        url, body=b"{}", headers={"Content-Type": "application/json"}, timeout=2, allow_private=False
    )
    assert outcome.status_code == 200, outcome
    assert len(checked.at("/hook")) == 1 and internal.at("/hook") == []
    with pytest.raises(transport.TargetRefused):  # resolved now to the internal address: refused, not sent
        transport.post(url, body=b"{}", headers={}, timeout=2, allow_private=False)
    assert internal.at("/hook") == []


@pytest.fixture
def slow_drip_server():
    """Reads the request, then answers one byte every 0.2 s (for at most 8 s): never a read timeout."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(10)
    stop = threading.Event()

    def serve():
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            answer = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 40 + b"\r\nContent-Length: 2\r\n\r\nok"
            for byte in answer:
                if stop.wait(0.2):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    stop.set()
    server.close()
    thread.join(timeout=5)


def test_a_slow_drip_receiver_is_cut_off_at_the_overall_deadline(slow_drip_server):
    t0 = time.monotonic()
    outcome = transport.post(slow_drip_server, body=b"{}", headers={}, timeout=1.0, allow_private=True)
    elapsed = time.monotonic() - t0
    assert outcome.status_code is None and "timeout" in outcome.error
    assert elapsed < 1.5, elapsed  # a per-read timeout let it run for the whole 8-s drip


def test_a_quick_receiver_is_unaffected_by_the_deadline():
    receiver = Receiver().start()
    try:
        outcome = transport.post(receiver.url(), body=b"{}", headers={}, timeout=1.0, allow_private=True)
        assert outcome.ok and outcome.latency_ms < 1000
    finally:
        receiver.server.shutdown()
