"""An in-process cache of services and their features.

Intake validates every report against the catalog; reading it from the
database per report (or per bulk item) would cost a round trip each, so each
process keeps a copy refreshed every few seconds and on a miss. While the
database is down the last copy serves on: intake still acknowledges reports
into the durable log (reports.intake_log), which needs no database. A process
that never had a copy (a worker started, or restarted, during the outage) takes
the last one any process stored in the shared cache (Redis).
"""

import logging
import threading
import time
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import DatabaseError

from .models import Feature, Service

log = logging.getLogger(__name__)

_REFRESH_SECONDS = 30.0
_MISS_REFRESH_SECONDS = 1.0
_SHARED_KEY = "reports:catalog"


@dataclass(frozen=True)
class ServiceEntry:
    id: int
    slug: str
    name: str
    active: bool
    features: dict[str, int] = field(default_factory=dict)  # slug -> Feature.id


class Catalog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._services: dict[str, ServiceEntry] = {}
        self._loaded_at = 0.0

    def _load(self) -> None:
        features: dict[int, dict[str, int]] = {}
        for service_id, slug, feature_id in Feature.objects.values_list("service_id", "slug", "id"):
            features.setdefault(service_id, {})[slug] = feature_id
        self._services = {
            slug: ServiceEntry(id=pk, slug=slug, name=name, active=active, features=features.get(pk, {}))
            for pk, slug, name, active in Service.objects.values_list("id", "slug", "name", "active")
        }
        self._loaded_at = time.monotonic()
        try:
            cache.set(_SHARED_KEY, self._services, timeout=None)
        except Exception as exc:  # Redis down: the database answered, the shared copy just ages
            log.warning("catalog: could not share the copy (%s)", exc)

    def _shared_copy(self) -> dict[str, ServiceEntry]:
        try:
            return cache.get(_SHARED_KEY) or {}
        except Exception:
            return {}

    def service(self, slug: str) -> ServiceEntry | None:
        with self._lock:
            age = time.monotonic() - self._loaded_at
            if age > _REFRESH_SECONDS or (slug not in self._services and age > _MISS_REFRESH_SECONDS):
                try:
                    self._load()
                except DatabaseError as exc:
                    if not self._services:
                        self._services = self._shared_copy()
                    if not self._services:
                        raise
                    log.warning("catalog: database unavailable (%s), serving the copy of %.0f s ago", exc, age)
                    self._loaded_at = time.monotonic() - _REFRESH_SECONDS + _MISS_REFRESH_SECONDS
            return self._services.get(slug)

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = 0.0


catalog = Catalog()
