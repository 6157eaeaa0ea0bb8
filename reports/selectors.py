"""Reads of the intake side."""

from datetime import datetime

from .models import Report


def recent_report_count(*, service_id: int, since: datetime, until: datetime) -> int:
    """Reports of one service observed in [since, until): the raw table, one index range scan."""
    return Report.objects.filter(service_id=service_id, observed_at__gte=since, observed_at__lt=until).count()
