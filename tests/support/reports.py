"""Stored reports for tests that need counts, without going through intake."""

from datetime import datetime

import pandas as pd

from analytics.bucketing import bucket_range
from reports.models import Report
from reports.services import service_create


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


def quiet_fleet(count: int, *, end: pd.Timestamp, every: str) -> list[int]:
    """Ids of `count` services with two days of ordinary reports before `end` (one every `every`), bucketed."""
    services = [service_create(slug=f"s{k}", name=f"S{k}", features=["app"]) for k in range(count)]
    rows = []
    for service in services:
        feature = service.features.get(slug="app")
        for k, minute in enumerate(pd.date_range(end - pd.Timedelta(days=2), end, freq=every, inclusive="left")):
            rows.append(
                Report(service=service, feature=feature, code="503", country=("FR", "US")[k % 2], region="EU",
                       observed_at=minute, received_at=minute, source="import")
            )  # fmt: skip
    Report.objects.bulk_create(rows, batch_size=2000)
    bucket_range(
        start=end - pd.Timedelta(days=2), end=end + pd.Timedelta(minutes=30), services=[s.slug for s in services]
    )
    return [s.id for s in services]
