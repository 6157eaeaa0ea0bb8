import hashlib
import hmac

from django.conf import settings


def reporter_fingerprint(*, address: str, user_agent: str) -> str:
    """Keyed hash of who reported: recognises a repeat reporter, never reveals the address."""
    key = settings.SECRET_KEY.encode()
    message = f"{address}\x00{user_agent}".encode("utf-8", "replace")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def client_address(request) -> str:
    """The client address DRF's throttles also use (honours NUM_PROXIES)."""
    num_proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        return hops[-min(num_proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "")
