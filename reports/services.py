"""Writes of the intake side: services, single reports, batches."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from common.metrics import report_outcome

from . import intake_log
from .catalog import catalog
from .dedupe import claim_first_report, claim_of, release_claim
from .models import Feature, Report, Service
from .signals import service_imported
from .validation import ReportInput


def service_create(*, slug: str, name: str, homepage_url: str = "", features: Iterable[str] = ()) -> Service:
    """A service and its features; every service also accepts `other`."""
    with transaction.atomic():
        service = Service.objects.create(slug=slug, name=name, homepage_url=homepage_url)
        slugs = dict.fromkeys([*features, Feature.OTHER])
        Feature.objects.bulk_create(
            [Feature(service=service, slug=slugify(s), name=s.replace("-", " ").capitalize()) for s in slugs]
        )
    catalog.invalidate()
    return service


def feature_ensure(*, service_id: int, slug: str) -> int:
    feature, _ = Feature.objects.get_or_create(
        service_id=service_id, slug=slug, defaults={"name": slug.replace("-", " ").capitalize()}
    )
    catalog.invalidate()
    return feature.id


def _feature_id(item: ReportInput) -> int:
    # `other` is accepted for every service even if nobody created it yet.
    return item.feature_id or feature_ensure(service_id=item.service_id, slug=item.feature_slug)


def _report(item: ReportInput, *, source: str, now: datetime, fingerprint: str = "") -> Report:
    return Report(
        service_id=item.service_id,
        feature_id=_feature_id(item),
        code=item.code,
        country=item.country,
        region=item.region,
        observed_at=item.observed_at or now,
        received_at=now,
        source=source,
        comment=item.comment,
        fingerprint=fingerprint,
    )


@cache
def _insert_statement(vendor: str) -> tuple[list, str]:
    fields = [f for f in Report._meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({}) RETURNING {}".format(
        qn(Report._meta.db_table),
        ", ".join(qn(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
        qn(Report._meta.pk.column),
    )
    return fields, sql


def _insert_one(report: Report) -> None:
    """INSERT one report, as `report.save(force_insert=True)` would, without the ORM's compiler.

    Single-report intake is the hottest write: compiling the INSERT through
    save() costs ~120 us of CPU a call here, about as much as the round trip
    (bench/README.md). Values still go through each field's get_db_prep_save,
    so both vendors get what the ORM would send. No signal is connected to
    Report saves (a receiver would be skipped here: use save() then).
    """
    if not connection.features.can_return_columns_from_insert:
        report.save(force_insert=True)
        return
    fields, sql = _insert_statement(connection.vendor)
    params = [f.get_db_prep_save(getattr(report, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        report.pk = cursor.fetchone()[0]
    report._state.adding = False
    report._state.db = connection.alias


@dataclass(frozen=True)
class SubmitResult:
    report: Report
    counted: bool
    log_entry: str = ""  # the intake log's entry id: stored by the flusher, not yet in the table


def report_log_payload(*, item: ReportInput, source: str, fingerprint: str, now: datetime) -> str:
    """The report encoded for the intake log, or "" when intake INSERTs directly (log not durable now)."""
    if not intake_log.mode().logged:
        return ""
    return intake_log.encode(
        service_id=item.service_id, feature_id=_feature_id(item), feature_slug=item.feature_slug, code=item.code,
        country=item.country, region=item.region, observed_at=now, source=source, comment=item.comment,
        fingerprint=fingerprint,
    )  # fmt: skip


def report_submit(
    *, item: ReportInput, source: str, fingerprint: str, claimed: bool | None = None, log_entry: str = "",
    now: datetime | None = None,
) -> SubmitResult:  # fmt: skip
    """One report from an owner (form or API), counted only if first in the dedupe window.

    A duplicate is answered but not stored: a flood from one client must not
    grow the table nor any count. `claimed`: the dedupe claim's outcome when
    the caller already tried it (intake's throttle script), else None;
    `log_entry`: the entry id when that script also appended the report to the
    intake log. Otherwise the report goes to the log here when it is durable,
    else (or with Redis down) straight into the table. intake_log.Unconfirmed when
    Redis may have logged it without saying so in time: the caller answers 503.
    """
    now = now or timezone.now()
    report = _report(item, source=source, now=now, fingerprint=fingerprint)
    if claimed is None:
        payload = report_log_payload(item=item, source=source, fingerprint=fingerprint, now=now)
        if payload:
            claimed, log_entry = intake_log.claim_and_append(
                claim_of(service_id=item.service_id, fingerprint=fingerprint), payload
            )
    if claimed is None:
        claimed = claim_first_report(service_id=item.service_id, fingerprint=fingerprint, now=now)
    if not claimed:
        report_outcome(source=source, outcome="duplicate")
        return SubmitResult(report=report, counted=False)
    if log_entry:
        report_outcome(source=source, outcome="accepted")
        return SubmitResult(report=report, counted=True, log_entry=log_entry)
    try:
        _insert_one(report)
    except BaseException:
        release_claim(service_id=item.service_id, fingerprint=fingerprint)
        raise
    report_outcome(source=source, outcome="accepted")
    return SubmitResult(report=report, counted=True)


def reports_bulk_create(*, items: Sequence[ReportInput], source: str, now: datetime | None = None) -> list[Report]:
    """Store a validated batch in one INSERT (partners and imports: no dedupe)."""
    now = now or timezone.now()
    rows = [_report(item, source=source, now=now) for item in items]
    created = Report.objects.bulk_create(rows, batch_size=1000)
    report_outcome(source=source, outcome="accepted", count=len(created))
    return created


# Column arrays unnested in one statement: building 1,000 model instances and
# letting the ORM compile them cost ~45% of a bulk call (bench/README.md).
_UNNEST_INSERT = (
    "INSERT INTO {table} (service_id, feature_id, code, country, region, observed_at, received_at, source, comment,"
    " fingerprint) SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[], %s::varchar[],"
    " %s::timestamptz[], %s::timestamptz[], %s::varchar[], %s::varchar[], %s::varchar[]) RETURNING id"
)


def _array_literal(values: list) -> str:
    """A PostgreSQL array literal: one string to bind instead of 1,000 values for psycopg to quote one by one."""
    if isinstance(values[0], int):
        return "{" + ",".join(map(str, values)) + "}"
    if isinstance(values[0], datetime):
        return "{" + ",".join(v.isoformat() for v in values) + "}"
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def reports_bulk_insert(*, items: Sequence[ReportInput], source: str, now: datetime | None = None) -> list[int]:
    """Like reports_bulk_create but returns only the new ids, in order: the fast path for bulk intake."""
    if connection.vendor != "postgresql" or not items:
        return [report.pk for report in reports_bulk_create(items=items, source=source, now=now)]
    now = now or timezone.now()
    n = len(items)
    ensured: dict[int, int] = {}  # `other`, created on first use: once per service, not per item

    def feature_id(item: ReportInput) -> int:
        if item.feature_id:
            return item.feature_id
        if item.service_id not in ensured:
            ensured[item.service_id] = _feature_id(item)
        return ensured[item.service_id]

    columns = [
        [item.service_id for item in items],
        [feature_id(item) for item in items],
        [item.code for item in items],
        [item.country for item in items],
        [item.region for item in items],
        [item.observed_at or now for item in items],
        [now] * n,
        [source] * n,
        [item.comment for item in items],
        [""] * n,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_UNNEST_INSERT.format(table=Report._meta.db_table), [_array_literal(c) for c in columns])
        ids = sorted(row[0] for row in cursor.fetchall())
    report_outcome(source=source, outcome="accepted", count=len(ids))
    return ids


def parse_providers(value: str | Iterable[str]) -> list[str]:
    """'aws:us-east-1; Cloudflare' -> ['aws:us-east-1', 'cloudflare']: lowercase, sorted, no duplicates."""
    items = value.split(";") if isinstance(value, str) else value
    providers = sorted({p.strip().lower() for p in items if p and p.strip()})
    for p in providers:
        if len(p) > 64 or any(c.isspace() for c in p):
            raise ValueError(f"provider {p!r}: at most 64 characters, no spaces")
    return providers


@transaction.atomic
def services_import(*, rows: Sequence[dict]) -> tuple[int, int]:
    """Create or update services (slug, name, homepage_url, providers, and what apps above read from the row,
    e.g. official_kind and official_url); all rows or none. (created, updated)."""
    created = updated = 0
    for line, row in enumerate(rows, start=2):
        slug, name = (row.get("slug") or "").strip(), (row.get("name") or "").strip()
        if not slug or not name or slugify(slug) != slug:
            raise ValueError(f"line {line}: a slug (lowercase letters, digits, dashes) and a name are required")
        try:
            providers = parse_providers(row.get("providers") or "")
        except ValueError as exc:
            raise ValueError(f"line {line}: {exc}") from None
        fields = {"name": name, "providers": providers}
        if row.get("homepage_url"):
            fields["homepage_url"] = row["homepage_url"].strip()
        service, was_created = Service.objects.update_or_create(slug=slug, defaults=fields)
        service_imported.send(sender=Service, service=service, row=row, line=line)
        created, updated = created + was_created, updated + (not was_created)
    return created, updated
