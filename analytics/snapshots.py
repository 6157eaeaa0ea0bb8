"""The tick's fitted profiles, kept in the database beside their Redis copy.

Redis is a cache: a flush, a restart or an eviction drops every service's
profiles at once, and the next tick then refits them all (bench 4: 61.6 s for
1,000 services against ~8 s warm). analytics.profiles.grid_profiles reads
Redis, then this table, and fits only when both miss.

A snapshot is keyed by (service, refit point, version). `version` changes with
the detector config, with FORMAT and with the numpy/pandas that pickled it, so
a deploy never takes profiles fitted by other code for its own: it refits
once, and the old rows age out. Until a service is refitted, the tick scores
it with its newest row of any version whose shapes this code still reads
(snapshot_fallbacks, analytics.fitting). Each service keeps the points the tick can still need,
its newest and the one before (the tick's window reaches back 90 minutes, a
refit period is 6 hours): about two rows per service.
"""

import hashlib
from functools import cache

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Max

from .core.baseline import DetectorConfig
from .models import ProfileSnapshot

# Bump when what a pickled GridProfiles holds or means changes (profiles.GridProfiles,
# core.baseline.Profile, how profiles.fit_service fits): rows of another format are then ignored.
FORMAT = 2  # 2: GridProfiles moved from analytics.tick to analytics.profiles


@cache
def profile_version(config: DetectorConfig) -> str:
    """A short fingerprint of everything a snapshot's pickle depends on besides the data."""
    text = f"{FORMAT}|numpy {np.__version__}|pandas {pd.__version__}|{config!r}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def snapshot_blobs(*, points: list[tuple[int, pd.Timestamp]], version: str) -> dict[tuple[int, pd.Timestamp], bytes]:
    """The stored pickles of these (service, refit point) pairs for this version, in one query."""
    wanted = set(points)
    # A savepoint inside a caller's transaction: an error here must not poison it.
    with transaction.atomic():
        rows = ProfileSnapshot.objects.filter(
            version=version, service_id__in={s for s, _ in wanted}, at__in={at for _, at in wanted}
        ).values_list("service_id", "at", "blob")
        found = {(service_id, pd.Timestamp(at)): bytes(blob) for service_id, at, blob in rows}
    return {point: blob for point, blob in found.items() if point in wanted}


def snapshot_save(
    *, service_id: int, at: pd.Timestamp, version: str, blob: bytes, keep: pd.Timedelta, replace: bool = False
) -> None:
    """Store the pickled profiles of a refit point; drop the service's points older than `keep` before its newest.

    Idempotent and safe when several workers fit the same point: the insert
    does nothing on a conflict (the rows they would write are equivalent).
    `replace` deletes an unreadable row first, which the insert would keep.
    """
    mine = ProfileSnapshot.objects.filter(service_id=service_id)
    with transaction.atomic():
        newest = mine.aggregate(newest=Max("at"))["newest"]
        # Relative to the newest stored point, not to the clock: a chart band
        # fitting an older point the tick no longer needs stores nothing.
        cutoff = max(at, pd.Timestamp(newest) if newest is not None else at) - keep
        if at < cutoff:
            return
        if replace:
            mine.filter(at=at, version=version).delete()
        ProfileSnapshot.objects.bulk_create(
            [ProfileSnapshot(service_id=service_id, at=at, version=version, blob=blob)], ignore_conflicts=True
        )
        mine.filter(at__lt=cutoff).delete()


def snapshot_index(*, service_ids: list[int]) -> list[tuple[int, pd.Timestamp, str]]:
    """(service, refit point, version) of every stored row of these services, without the pickles."""
    rows = ProfileSnapshot.objects.filter(service_id__in=service_ids).values_list("service_id", "at", "version")
    return [(service_id, pd.Timestamp(at), version) for service_id, at, version in rows]


def snapshot_fallbacks(*, service_ids: list[int], version: str) -> dict[int, list[bytes]]:
    """Each service's stored pickles of any version, best first: this version, then the newest point.

    What the tick scores with while a service waits for the fit of its current
    point (analytics.fitting): its previous point, or the profiles an older
    version fitted. About two rows per service and version still stored.
    """
    with transaction.atomic():  # a savepoint, as in snapshot_blobs
        mine = ProfileSnapshot.objects.filter(service_id__in=service_ids)
        rows = mine.values_list("service_id", "at", "version", "blob")
        ranked = sorted(rows, key=lambda row: (row[2] != version, -pd.Timestamp(row[1]).value))
    found: dict[int, list[bytes]] = {}
    for service_id, _, _, blob in ranked:
        found.setdefault(service_id, []).append(bytes(blob))
    return found
