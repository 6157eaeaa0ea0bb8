"""Stored reports for tests that need counts, without going through intake."""

from datetime import datetime

from reports.models import Report


def add_reports(
    service,
    *,
    at: datetime,
    n: int = 1,
    received: datetime | None = None,
    feature: str = "climate",
    code: str = "503",
    country: str = "FR",
    region: str = "EU",
    source: str = "import",
) -> None:
    """`n` reports observed at `at` (received then too, unless `received` says otherwise)."""
    feature_obj = service.features.get(slug=feature)
    Report.objects.bulk_create(
        Report(
            service=service,
            feature=feature_obj,
            code=code,
            country=country,
            region=region,
            observed_at=at,
            received_at=received or at,
            source=source,
        )  # fmt: skip
        for _ in range(n)
    )
