"""Reads of the intake side."""

from datetime import datetime

from . import intake_log
from .models import Report


def recent_report_count(*, service_id: int, since: datetime, until: datetime) -> int:
    """Reports of one service observed in [since, until): the raw table, one index range scan.

    Plus the reports acknowledged from the intake log and not stored yet, each counted once.
    """
    mine = [e for e in intake_log.unflushed() if e.service_id == service_id]
    stored, pending = intake_log.count_once(
        mine,
        Report.objects.filter(service_id=service_id, observed_at__gte=since, observed_at__lt=until).count,
        lambda first: set(Report.objects.filter(log_entry__gte=first).values_list("log_entry", flat=True)),
    )
    return stored + sum(1 for e in pending if since <= e.observed_at < until)
