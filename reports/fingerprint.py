"""Who reported, as far as dedupe and throttles need to know: never the address itself.

A fingerprint is two keyed hashes side by side: 16 hex digits of the reporter's
network (an IPv4 address, or an IPv6 /64: one subscriber line gets a whole /64,
so any address inside it is the same client) and 16 of address + User-Agent (one
device). Dedupe counts one report per device and at most a few per network;
the network half is a prefix, so the database fallback can count by it too.
"""

import hashlib
import hmac
import ipaddress

from django.conf import settings

NETWORK_DIGITS = 16


def network_of(address: str) -> str:
    """The client's network: an IPv4 address as is, an IPv6 address as its /64."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return address  # not an address (a misconfigured proxy header): keyed as sent
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _digest(message: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, message.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:NETWORK_DIGITS]


def reporter_fingerprint(*, address: str, user_agent: str) -> str:
    """Keyed hash of who reported: recognises a repeat reporter and its network, never reveals the address."""
    return _digest(f"net\x00{network_of(address)}") + _digest(f"{address}\x00{user_agent}")


def network_part(fingerprint: str) -> str:
    return fingerprint[:NETWORK_DIGITS]


def client_address(request) -> str:
    """The client address DRF's throttles also use (honours NUM_PROXIES)."""
    num_proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        return hops[-min(num_proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "")


def client_network(request) -> str:
    """What throttles key on: the client's network (see network_of), like dedupe."""
    return network_of(client_address(request))
