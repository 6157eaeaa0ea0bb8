"""Pagination classes for API v1 lists.

Growing, time-ordered tables (reports, incidents, webhook deliveries) use
cursor pagination: pages stay stable while rows arrive, and a poller keeps
the `next` link instead of re-reading from the top. Small in-memory lists
(services) use limit/offset.
"""

from rest_framework.pagination import CursorPagination, LimitOffsetPagination


class _Cursor(CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class ReportCursorPagination(_Cursor):
    # Newest observed first; id breaks ties so a page boundary never splits a minute unevenly.
    ordering = ("-observed_at", "-id")


class IncidentCursorPagination(_Cursor):
    """For `/api/v1/incidents/`: newest onset first (index incident_started_idx)."""

    ordering = ("-started_at", "-id")
    page_size = 50


class EventCursorPagination(_Cursor):
    """For `/api/v1/events/`: newest onset first (index event_started_idx)."""

    ordering = ("-started_at", "-id")
    page_size = 50


class DeliveryCursorPagination(_Cursor):
    ordering = ("-id",)
    page_size = 50


class SubscriptionCursorPagination(_Cursor):
    ordering = ("-id",)
    page_size = 50


class ServiceLimitOffsetPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = 1000
