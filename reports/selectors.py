"""Reads of the intake side: services with their recent report counts."""

from datetime import timedelta

from django.utils import timezone

from analytics.selectors import counts_by_service

from .models import Service

COUNT_WINDOWS = {"reports_last_hour": timedelta(hours=1), "reports_last_24h": timedelta(hours=24)}


def services_with_counts(*, services=None) -> list[dict]:
    """Active services with their report counts, most reports in the last hour first."""
    now = timezone.now()
    services = list(services if services is not None else Service.objects.filter(active=True))
    windows = {name: counts_by_service(start=now - span, end=now) for name, span in COUNT_WINDOWS.items()}
    rows = [{"service": s, **{name: counts.get(s.id, 0) for name, counts in windows.items()}} for s in services]
    rows.sort(key=lambda row: (-row["reports_last_hour"], row["service"].name))
    return rows
