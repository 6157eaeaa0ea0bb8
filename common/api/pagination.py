"""Pagination classes for API v1 lists.

Growing, time-ordered tables (reports, incidents, webhook deliveries) use
cursor pagination: pages stay stable while rows arrive, and a poller keeps
the `next` link instead of re-reading from the top. Small in-memory lists
(services) use limit/offset.
"""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, LimitOffsetPagination


def _must_be_integers(request, *names: str) -> None:
    """A paging parameter that is not an integer is a 400, not silently the default.

    Integers out of range are still clamped as DRF does: the schema allows any integer.
    """
    for name in names:
        for raw in request.query_params.getlist(name):
            try:
                int(raw)
            except ValueError:
                raise ValidationError({name: ["Must be an integer."]}) from None


class _Cursor(CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request):
        _must_be_integers(request, self.page_size_query_param)
        return super().get_page_size(request)


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

    def paginate_queryset(self, queryset, request, view=None):
        _must_be_integers(request, self.limit_query_param, self.offset_query_param)
        return super().paginate_queryset(queryset, request, view)
