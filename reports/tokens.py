"""API tokens: created and revoked by staff, shown once, stored as a sha256.

A key looks like `trm_<prefix>_<secret>`. The prefix stays readable in the
admin and in `manage.py api_token list` so holders can tell their tokens
apart; the whole key has 256 bits of entropy, so a plain sha256 (no salt,
no slow hash) is enough and lets authentication be one indexed lookup.
"""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .models import ApiToken, validate_rate

KEY_PREFIX = "trm_"
# Writing last_used_at on every request would make every read a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(
    *, user: AbstractBaseUser, name: str, read_rate: str = "", bulk_rate: str = ""
) -> tuple[ApiToken, str]:
    """Create a token; returns it with the key, which is never retrievable again."""
    for rate in (read_rate, bulk_rate):
        validate_rate(rate)  # a bad rate would fail every call made with the token
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, key_hash=hash_key(key), read_rate=read_rate, bulk_rate=bulk_rate
    )
    return token, key


def token_revoke(*, prefix: str) -> bool:
    """Revoke the token with this prefix; False if there is none or it was already revoked."""
    return bool(ApiToken.objects.filter(prefix=prefix, revoked_at=None).update(revoked_at=timezone.now()))


def token_for_key(key: str) -> ApiToken | None:
    if not key.startswith(KEY_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
    if token is None or not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>` (or `Bearer <key>`); request.auth is the ApiToken."""

    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <key>'.")
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token header.") from None
        token = token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) to anonymous calls of token-only endpoints.
        return "Token"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes the token header in the OpenAPI schema."""

    target_class = "reports.tokens.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": "`Token <key>`"}
