"""The flusher: moves the intake log (reports.intake_log) into the reports table in batches.

Flushers read new entries as members of one Redis consumer group, so several
(on several machines) share the stream. An entry is deleted from the stream
(its acknowledgement) only after its batch has committed: a flusher that dies
mid-batch, or a batch the database refused, leaves its entries in the log, and
once older than TREMOR_FLUSH_RECLAIM_SECONDS any flusher takes them again. An
entry stored but not deleted (a crash between the two) comes back:
`Report.log_entry` is unique and a batch skips entries already stored, so it
is stored once.
"""

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

_COLUMNS = [*intake_log.COLUMNS, "received_at", "log_entry"]


def ensure_group() -> None:
    try:
        intake_log.client().xgroup_create(intake_log.stream_key(), intake_log.GROUP, id="0", mkstream=True)
    except redis_py.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _insert(entries: list[intake_log.Entry], now: datetime) -> None:
    table = Report._meta.db_table
    columns = ", ".join(_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The payloads are COPY lines already (intake_log.encode): nothing to parse or quote here.
            tail = f"\t{now.isoformat()}\t"
            text = "".join(f"{e.copy_line}{tail}{e.number}\n" for e in entries)
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                copy.write(text.encode())
            return
        received = connection.ops.adapt_datetimefield_value(now)
        rows = []
        for e in entries:
            f, s, code, country, region, at, source, comment, fp, _slug = e.fields
            observed = connection.ops.adapt_datetimefield_value(datetime.fromisoformat(at))
            rows.append((int(f), int(s), code, country, region, observed, source, intake_log.unescape(comment), fp,
                         received, e.number))  # fmt: skip
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})", rows)


def store(entries: list[intake_log.Entry], *, now: datetime | None = None) -> int:
    """Store the entries not stored yet, in one transaction; returns how many were new.

    `received_at` is the time of this insert (`now`), not of intake: bucketing finds new
    reports by it, and one held in the log during a database outage is new now.
    """
    for attempt in range(3):
        try:
            with transaction.atomic():
                numbers = [e.number for e in entries]
                # A range on the unique index, not IN (2,000 values): normally it finds nothing.
                span = Report.objects.filter(log_entry__gte=min(numbers), log_entry__lte=max(numbers))
                stored = set(span.values_list("log_entry", flat=True))
                todo = [e for e in entries if e.number not in stored]
                # A service or feature deleted since intake: its reports would have been deleted with it.
                alive = set(Feature.objects.filter(id__in={e.feature_id for e in todo}).values_list("id", flat=True))
                gone = [e for e in todo if e.feature_id not in alive]
                if gone:
                    log.warning("flusher: %d entries of deleted features dropped", len(gone))
                todo = [e for e in todo if e.feature_id in alive]
                if todo:
                    _insert(todo, now or timezone.now())
            return len(todo)
        except IntegrityError:
            # Another flusher stored some of these meanwhile (it took them over while we were slow).
            if attempt == 2:
                raise
    return 0


def _delete(entry_ids: list[bytes]) -> None:
    intake_log.client().xdel(intake_log.stream_key(), *entry_ids)


_last_reclaim = 0.0


def _abandoned(redis, key: str, count: int) -> list:
    """Entries older than the reclaim period still in the log: their flusher died (or the database was down)."""
    cutoff_ms = int((time.time() - settings.TREMOR_FLUSH_RECLAIM_SECONDS) * 1000)
    return redis.xrange(key, "-", str(cutoff_ms), count=count)


def flush_once(*, consumer: str, block_ms: int = 1000, now: datetime | None = None) -> int:
    """Store a batch (abandoned entries first, when it is time to look for them, else new ones), then delete it."""
    global _last_reclaim
    redis = intake_log.blocking_client(block_ms / 1000)
    key, count = intake_log.stream_key(), settings.TREMOR_FLUSH_BATCH
    batch: list = []
    # The log itself is the list of entries not stored: an entry leaves it only once its batch
    # has committed. Looked at a few times per reclaim period, and on while it keeps finding some.
    if time.monotonic() - _last_reclaim >= settings.TREMOR_FLUSH_RECLAIM_SECONDS / 4:
        batch = _abandoned(redis, key, count)
        _last_reclaim = 0.0 if len(batch) == count else time.monotonic()
    if not batch:
        # NOACK: the group only shares new entries among flushers. Tracking each delivery
        # (the pending list) would cost Redis an AOF record per entry, fsynced, for a
        # guarantee the log already gives.
        got = redis.xreadgroup(intake_log.GROUP, consumer, {key: ">"}, count=count, block=block_ms, noack=True)
        # The raw reply (intake_log.blocking_client): {stream: entries} (RESP3) or [[stream, entries]].
        raw = (next(iter(got.values())) if isinstance(got, dict) else got[0][1]) if got else []
        batch = [(entry_id, {b"r": fields[1]}) for entry_id, fields in raw]
    if not batch:
        return 0
    new = store([intake_log.decode(entry_id, fields) for entry_id, fields in batch], now=now)
    _delete([entry_id for entry_id, _ in batch])
    return new


def run(*, consumer: str, stop=lambda: False, idle_sleep: float = 1.0) -> None:
    """Flush until `stop()`; survives Redis and database outages by retrying."""
    fresh, last_stamp = True, 0.0
    while not stop():
        try:
            if fresh:
                ensure_group()
                fresh = False
            n = flush_once(consumer=consumer)
            if n:
                log.info("flusher: %d reports stored", n)
            if time.monotonic() - last_stamp > 10:
                heartbeat.stamp("flusher", **intake_log.lag())
                last_stamp = time.monotonic()
        except Exception as exc:  # Redis or the database down: retry; nothing was acked
            log.warning("flusher: %s: %s (retrying)", type(exc).__name__, exc)
            connection.close()
            fresh = True
            time.sleep(idle_sleep)
