"""`Idempotency-Key` on bulk intake: a partner retrying after a lost 201 must not store its batch twice.

The key is claimed (a row, unique per token) in the same transaction as the
batch it stores: a concurrent retry waits on the unique index and then
replays the committed answer; a failed store rolls the claim back with it.
Only stored batches are remembered: a refused one stores nothing, so its
retry is simply validated again.
"""

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from .models import IdempotencyKey

TTL = timedelta(hours=24)
HEADER = "Idempotency-Key"
# Printable ASCII without spaces (UUIDs, ULIDs, hashes), as in the IETF draft's examples.
KEY_RE = re.compile(r"^[!-~]{1,255}$")


class KeyReused(Exception):
    """The key came with a different body than the first time."""


def key_problem(key: str) -> str | None:
    if not KEY_RE.fullmatch(key):
        return "Must be 1-255 printable ASCII characters without spaces, e.g. a UUID."
    return None


def body_digest(data: object) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def replayed(*, token_id: int, key: str, digest: str, now: datetime) -> dict | None:
    """The first answer to this key, if it was stored within 24 h (KeyReused if the body differs)."""
    row = IdempotencyKey.objects.filter(token_id=token_id, key=key, created_at__gte=now - TTL).first()
    if row is None:
        return None
    if row.body_sha256 != digest:
        raise KeyReused
    return row.response


def store_once(*, token_id: int, key: str, digest: str, now: datetime, store: Callable[[], dict]) -> tuple[dict, bool]:
    """Run `store` (which writes and returns the answer) unless the key was used: (answer, replayed)."""
    IdempotencyKey.objects.filter(token_id=token_id, created_at__lt=now - TTL).delete()
    try:
        with transaction.atomic():
            row = IdempotencyKey.objects.create(token_id=token_id, key=key, body_sha256=digest, created_at=now)
            answer = store()
            IdempotencyKey.objects.filter(pk=row.pk).update(response=answer)
            return answer, False
    except IntegrityError:
        # A concurrent call with the same key committed first.
        answer = replayed(token_id=token_id, key=key, digest=digest, now=now)
        if answer is None:
            raise
        return answer, True
