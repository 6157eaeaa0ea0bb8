"""Reads of widespread events for the pages, the feed and the API."""

from django.db.models import Prefetch

from analytics.core.grouping import provider_label
from analytics.models import EventMember, WidespreadEvent


def event_queryset():
    """Events with their members in join order and each member's incident and service: three queries."""
    members = EventMember.objects.select_related("incident__service")  # in join order (Meta.ordering)
    return WidespreadEvent.objects.prefetch_related(Prefetch("members", queryset=members))


def ongoing_events() -> list[WidespreadEvent]:
    """For the home page's banner, each with `provider_label` for people."""
    events = list(event_queryset().filter(status=WidespreadEvent.Status.ONGOING).order_by("-started_at")[:3])
    for event in events:
        event.provider_label = provider_label(event.provider) if event.provider else ""
    return events
