"""CSV import of reports (`observed_at,service,country,code,feature`): all or nothing."""

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify

from .catalog import catalog
from .models import Feature, Report, Service
from .services import reports_bulk_create, service_create
from .validation import ReportInput, validate_report

_SLUG = re.compile(r"[-a-zA-Z0-9_]+")  # Django's validate_slug and <slug:> URL converter
COLUMNS = ("observed_at", "service", "country", "code", "feature")
BATCH = 5000


class ImportFailed(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors[:5]))
        self.errors = errors


@dataclass(frozen=True)
class ImportResult:
    rows: int
    start: datetime | None
    end: datetime | None
    services: list[str]


Progress = Callable[[str, int, int], None]


def _read(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ImportFailed([f"line 1: missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}"])
        return list(reader)


def _slug_problem(value: str) -> str | None:
    # Slugs end up in URLs (/status/<slug>/): one that no URL pattern matches breaks every page listing it.
    if len(value) > 64 or not _SLUG.fullmatch(value):
        example = slugify(value)[:64]
        return f"{value!r} is not a valid slug (at most 64 ASCII letters, digits, '-' or '_'), e.g. {example!r}"
    return None


def _create_missing(rows: list[dict]) -> None:
    """With --create-services: unknown services and features come into being (slug = name)."""
    wanted: dict[str, set[str]] = {}
    errors: list[str] = []
    for number, row in enumerate(rows, start=2):
        service, feature = (row.get("service") or "").strip(), (row.get("feature") or "").strip()
        problems = [
            f"{name}: {p}" for name, v in (("service", service), ("feature", feature)) if v and (p := _slug_problem(v))
        ]
        if problems:
            errors.append(f"line {number}: " + "; ".join(problems))
            if len(errors) >= 50:
                break
        elif service:
            wanted.setdefault(service, set()).add(feature)
    if errors:
        raise ImportFailed(errors)  # before anything is created: all or nothing
    for slug, features in wanted.items():
        service = Service.objects.filter(slug=slug).first()
        if service is None:
            service_create(slug=slug, name=slug, features=sorted(f for f in features if f))
            continue
        known = set(service.features.values_list("slug", flat=True))
        Feature.objects.bulk_create([Feature(service=service, slug=f, name=f) for f in sorted(features - known) if f])
    catalog.invalidate()


def _observed(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) and value else None
    except ValueError:  # well-formed but impossible, e.g. 2023-02-30
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def import_csv(path: Path, *, create_services: bool = False, progress: Progress | None = None) -> ImportResult:
    try:
        rows = _read(path)
    except UnicodeDecodeError as exc:
        raise ImportFailed([f"file is not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    return import_rows(rows, create_services=create_services, progress=progress)


def import_rows(rows: list[dict], *, create_services: bool = False, progress: Progress | None = None) -> ImportResult:
    """Validate every row (line numbers as in a CSV with a header), then store all in one transaction."""
    if create_services:
        _create_missing(rows)
    now = timezone.now()
    items: list[ReportInput] = []
    errors: list[str] = []
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        item, problems = validate_report(row, now=now)
        observed = _observed(row.get("observed_at"))
        if observed is None:
            problems = {**problems, "observed_at": "must be an ISO 8601 UTC date-time, e.g. 2023-02-14T09:00:00Z"}
        if problems:
            errors.append(f"line {number}: " + "; ".join(f"{f}: {m}" for f, m in problems.items()))
            if len(errors) >= 50:
                break
            continue
        items.append(replace(item, observed_at=observed))
        if progress and number % 20000 == 0:
            progress("validated", number - 1, len(rows))
    if errors:
        raise ImportFailed(errors)
    with transaction.atomic():
        for offset in range(0, len(items), BATCH):
            reports_bulk_create(items=items[offset : offset + BATCH], source=Report.Source.IMPORT, now=now)
            if progress:
                progress("stored", min(offset + BATCH, len(items)), len(items))
    times = [item.observed_at for item in items]
    return ImportResult(
        rows=len(items),
        start=min(times) if times else None,
        end=max(times) if times else None,
        services=sorted({row["service"] for row in rows}),
    )
