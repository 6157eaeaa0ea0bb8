"""The flusher's throughput: the intake log into PostgreSQL, against a bare COPY of the same rows.

Both store the same rows in batches of TREMOR_FLUSH_BATCH, one transaction each.
The flusher also reads the batch from Redis, skips entries already stored
(one indexed SELECT), checks the features still exist, and acknowledges.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from reports import flusher, intake_log
from reports.models import Feature, Report
from reports.services import service_create

from .lib.context import Context
from .lib.results import Figure, figure


def _fill(n: int, *, service_id: int, feature_id: int) -> None:
    redis, key, now = intake_log.client(), intake_log.stream_key(), timezone.now()
    for start in range(0, n, 1000):
        pipe = redis.pipeline(transaction=False)
        for i in range(start, min(n, start + 1000)):
            pipe.xadd(key, {"r": intake_log.encode(
                service_id=service_id, feature_id=feature_id, feature_slug="climate", code="503", country="FR",
                region="EU", observed_at=now, source="api", comment="", fingerprint=f"{i:032x}",
            )})  # fmt: skip
        pipe.execute()


_COLUMNS = (
    "service_id, feature_id, code, country, region, observed_at, received_at, source, comment, fingerprint, log_entry"
)


def _copy_reference(n: int, *, service_id: int, feature_id: int) -> float:
    """Seconds to COPY n such rows in batches with psycopg's write_row (log_entry negative: no clash)."""
    now, batch = timezone.now(), settings.TREMOR_FLUSH_BATCH
    rows = [(service_id, feature_id, "503", "FR", "EU", now, now, "api", "", f"{i:032x}", -1 - i) for i in range(n)]
    started = time.perf_counter()
    for i in range(0, n, batch):
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY reports_report ({_COLUMNS}) FROM STDIN") as copy:
                for row in rows[i : i + batch]:
                    copy.write_row(row)
    return time.perf_counter() - started


def run(ctx: Context) -> list[Figure]:
    n = 5_000 if ctx.smoke else 50_000
    service = service_create(slug="bench-flush", name="Bench flush", features=["climate"])
    feature_id = Feature.objects.get(service=service, slug="climate").id
    # Interleaved halves, so drift on a shared machine hits both alike.
    copy_s = flush_s = 0.0
    stored = 0
    flusher.ensure_group()
    for _ in range(2):
        copy_s += _copy_reference(n // 2, service_id=service.id, feature_id=feature_id)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM reports_report WHERE service_id = %s", [service.id])
        _fill(n // 2, service_id=service.id, feature_id=feature_id)
        started = time.perf_counter()
        while intake_log.client().xlen(intake_log.stream_key()):
            stored += flusher.flush_once(consumer="bench-flush", block_ms=10)
        flush_s += time.perf_counter() - started
        counted = Report.objects.filter(service=service).count()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM reports_report WHERE service_id = %s", [service.id])
    half = n // 2
    return [
        figure("flusher.rows_per_s", 2 * half / flush_s, "rows/s", reference=2 * half / copy_s, target=">= 0.7x"),
        figure("flusher.rows_stored", stored, "rows", reference=2 * half, target="= entries logged, once each",
               passed=stored == 2 * half == 2 * counted),
    ]
