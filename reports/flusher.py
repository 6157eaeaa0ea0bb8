"""The flusher: moves the intake log (reports.intake_log) into the reports table in batches.

Flushers are members of one Redis consumer group, so several (on several
machines) share the stream. An entry is acknowledged (XACK, then deleted) only
after its batch has committed; a flusher that dies mid-batch leaves its entries
pending, and after TREMOR_FLUSH_RECLAIM_SECONDS another takes them over
(XAUTOCLAIM). An entry stored but not acknowledged (a crash between the two)
comes back: `Report.log_entry` is unique and the batch skips entries already
stored, so it is stored once.
"""

import io
import logging
import time
from datetime import datetime

import redis as redis_py
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from common import heartbeat

from . import intake_log
from .models import Feature, Report

log = logging.getLogger(__name__)

_COLUMNS = ["service_id", "feature_id", "code", "country", "region", "observed_at", "received_at", "source",
            "comment", "fingerprint", "log_entry"]  # fmt: skip


def ensure_group() -> None:
    try:
        intake_log.client().xgroup_create(intake_log.stream_key(), intake_log.GROUP, id="0", mkstream=True)
    except redis_py.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _rows(entries: list[intake_log.Entry], now: datetime) -> list[tuple]:
    return [(e.service_id, e.feature_id, e.code, e.country, e.region, e.observed_at, now, e.source, e.comment,
             e.fingerprint, e.number) for e in entries]  # fmt: skip


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(rows: list[tuple]) -> bytes:
    """COPY's text format: tab-separated, backslash escapes (comments may hold tabs and newlines)."""
    out = io.StringIO()
    for row in rows:
        fields = []
        for value in row:
            if isinstance(value, datetime):
                fields.append(value.isoformat())
            elif isinstance(value, str):
                fields.append(value.translate(_COPY_ESCAPES))
            else:
                fields.append(str(value))
        out.write("\t".join(fields) + "\n")
    return out.getvalue().encode()


def _insert(rows: list[tuple]) -> None:
    table = Report._meta.db_table
    columns = ", ".join(_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                copy.write(_copy_text(rows))
        else:
            ops = connection.ops
            rows = [tuple(ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v for v in row)
                    for row in rows]  # fmt: skip
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})", rows
            )


def store(entries: list[intake_log.Entry], *, now: datetime | None = None) -> int:
    """Store the entries not stored yet, in one transaction; returns how many were new.

    `received_at` is the time of this insert (`now`), not of intake: bucketing finds new
    reports by it, and one held in the log during a database outage is new now.
    """
    for attempt in range(3):
        try:
            with transaction.atomic():
                numbers = [e.number for e in entries]
                stored = set(Report.objects.filter(log_entry__in=numbers).values_list("log_entry", flat=True))
                todo = [e for e in entries if e.number not in stored]
                # A service or feature deleted since intake: its reports would have been deleted with it.
                alive = set(Feature.objects.filter(id__in={e.feature_id for e in todo}).values_list("id", flat=True))
                gone = [e for e in todo if e.feature_id not in alive]
                if gone:
                    log.warning("flusher: %d entries of deleted features dropped", len(gone))
                todo = [e for e in todo if e.feature_id in alive]
                if todo:
                    _insert(_rows(todo, now or timezone.now()))
            return len(todo)
        except IntegrityError:
            # Another flusher stored some of these meanwhile (it took them over while we were slow).
            if attempt == 2:
                raise
    return 0


def _ack(entry_ids: list[bytes]) -> None:
    pipe = intake_log.client().pipeline(transaction=True)
    key = intake_log.stream_key()
    pipe.xack(key, intake_log.GROUP, *entry_ids)
    pipe.xdel(key, *entry_ids)
    pipe.execute()


def flush_once(*, consumer: str, block_ms: int = 1000, own_first: bool = False, now: datetime | None = None) -> int:
    """Read a batch (own pending ones first when `own_first`, then abandoned ones, then new), store, ack."""
    redis = intake_log.blocking_client(block_ms / 1000)
    key, count = intake_log.stream_key(), settings.TREMOR_FLUSH_BATCH
    batch: list = []
    if own_first:
        batch = redis.xreadgroup(intake_log.GROUP, consumer, {key: "0"}, count=count)
        batch = batch[0][1] if batch else []
    if not batch:
        idle = int(settings.TREMOR_FLUSH_RECLAIM_SECONDS * 1000)
        batch = redis.xautoclaim(key, intake_log.GROUP, consumer, idle, start_id="0-0", count=count)[1]
    if not batch:
        got = redis.xreadgroup(intake_log.GROUP, consumer, {key: ">"}, count=count, block=block_ms)
        batch = got[0][1] if got else []
    # XAUTOCLAIM returns deleted entries as None fields: nothing left to store.
    ids = [entry_id for entry_id, _ in batch]
    entries = [intake_log.decode(entry_id, fields) for entry_id, fields in batch if fields]
    if not ids:
        return 0
    new = store(entries, now=now) if entries else 0
    _ack(ids)
    return new


def run(*, consumer: str, stop=lambda: False, idle_sleep: float = 1.0) -> None:
    """Flush until `stop()`; survives Redis and database outages by retrying."""
    own_first, last_stamp = True, 0.0
    while not stop():
        try:
            if own_first:
                ensure_group()
            n = flush_once(consumer=consumer, own_first=own_first)
            own_first = own_first and n > 0  # drain our own pending entries first, once
            if n:
                log.info("flusher: %d reports stored", n)
            if time.monotonic() - last_stamp > 10:
                heartbeat.stamp("flusher", **intake_log.lag())
                last_stamp = time.monotonic()
        except Exception as exc:  # Redis or the database down: retry; nothing was acked
            log.warning("flusher: %s: %s (retrying)", type(exc).__name__, exc)
            connection.close()
            own_first = True
            time.sleep(idle_sleep)
