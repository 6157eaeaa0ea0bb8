"""Atom feeds of incidents: all services (`/incidents/feed/`) and one (`/status/<slug>/feed/`).

Widespread events have their own (`/events/feed/`).

An entry is an incident; its `updated` moves when the incident changes, so
feed readers show an update when it escalates, spreads or is resolved. When
the official status page changes during an incident, that change is an entry
of its own (official.models.StatusChange with its incident).
"""

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.models import Incident, Level, WidespreadEvent
from official.models import StatusChange
from reports.models import Service

from .event_selectors import event_queryset
from .event_text import event_chance_sentence, event_headline

FEED_LENGTH = 50


def _state(incident: Incident) -> str:
    if incident.status == Incident.Status.RESOLVED:
        return _("resolved")
    return _("problems") if incident.level == Level.PROBLEMS else _("possible problems")


def incident_title(incident: Incident) -> str:
    where = ", ".join((incident.scope or {}).get("regions") or []) if incident.is_regional else ""
    title = _("%(service)s: %(state)s") % {"service": incident.service.name, "state": _state(incident)}
    return title + (f" ({where})" if where else "")


def incident_summary(incident: Incident) -> str:
    scope = incident.scope or {}
    parts = [_("Started %(time)s UTC") % {"time": f"{incident.started_at:%Y-%m-%d %H:%M}"}]
    if incident.ended_at:
        parts.append(_("ended %(time)s UTC") % {"time": f"{incident.ended_at:%Y-%m-%d %H:%M}"})
    parts.append(
        _("peak %(peak)s reports/min (normal %(normal)s)")
        % {"peak": f"{incident.peak_reports_per_minute:.0f}", "normal": f"{incident.baseline_at_peak:.1f}"}
    )
    for key, label in (("codes", _("errors")), ("features", _("features")), ("regions", _("regions"))):
        if scope.get(key):
            parts.append(f"{label}: {', '.join(map(str, scope[key][:5]))}")
    return "; ".join(parts) + "."


def official_title(change: StatusChange) -> str:
    return _("%(service)s: official status now %(status)s") % {
        "service": change.source.service.name, "status": change.get_status_display()
    }  # fmt: skip


def official_summary(change: StatusChange) -> str:
    return _("The official status page changed from %(previous)s to %(status)s at %(time)s UTC, during the "
             "incident Tremor detected at %(detected)s UTC.") % {
        "previous": change.get_previous_display(), "status": change.get_status_display(),
        "time": f"{change.changed_at:%Y-%m-%d %H:%M}", "detected": f"{change.incident.detected_at:%Y-%m-%d %H:%M}",
    }  # fmt: skip


def _with_official(incidents, changes) -> list:
    """Incidents and the official changes during them, by last update, newest first."""
    entries = [*incidents, *changes.select_related("source__service", "incident")[:FEED_LENGTH]]
    entries.sort(key=lambda e: e.seen_at if isinstance(e, StatusChange) else e.updated_at, reverse=True)
    return entries[:FEED_LENGTH]


class IncidentFeed(Feed):
    feed_type = Atom1Feed
    title = gettext_lazy("Tremor incidents")
    subtitle = gettext_lazy("Outages detected from crowd reports, newest first.")
    author_name = "Tremor"

    def link(self) -> str:
        return reverse("home")

    def feed_guid(self) -> str:
        return "tag:tremor,2026:incidents"

    def items(self):
        incidents = Incident.objects.select_related("service").order_by("-updated_at", "-id")[:FEED_LENGTH]
        return _with_official(incidents, StatusChange.objects.filter(incident__isnull=False).order_by("-seen_at"))

    def item_title(self, item) -> str:
        return official_title(item) if isinstance(item, StatusChange) else incident_title(item)

    def item_description(self, item) -> str:
        return official_summary(item) if isinstance(item, StatusChange) else incident_summary(item)

    def item_link(self, item) -> str:
        incident = item.incident if isinstance(item, StatusChange) else item
        try:
            return reverse("incident", args=[incident.pk])
        except NoReverseMatch:
            return reverse("service", args=[incident.service.slug])

    def item_guid(self, item) -> str:
        if isinstance(item, StatusChange):
            return f"tag:tremor,2026:official:{item.pk}"
        return f"tag:tremor,2026:incident:{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.seen_at if isinstance(item, StatusChange) else item.detected_at

    def item_updateddate(self, item):
        return item.seen_at if isinstance(item, StatusChange) else item.updated_at

    def item_categories(self, item):
        if isinstance(item, StatusChange):
            return [item.source.service.slug, "official", item.status]
        return [item.service.slug, item.status, *((item.scope or {}).get("regions") or [])]


class ServiceIncidentFeed(IncidentFeed):
    def get_object(self, request, slug: str) -> Service:
        return get_object_or_404(Service, slug=slug, active=True)

    def title(self, service: Service) -> str:
        return _("Tremor: %(service)s incidents") % {"service": service.name}

    def link(self, service: Service) -> str:
        return reverse("service", args=[service.slug])

    def feed_guid(self, service: Service) -> str:
        return f"tag:tremor,2026:incidents:{service.slug}"

    def items(self, service: Service):
        incidents = service.incidents.select_related("service").order_by("-updated_at", "-id")[:FEED_LENGTH]
        changes = StatusChange.objects.filter(incident__isnull=False, source__service=service).order_by("-seen_at")
        return _with_official(incidents, changes)


class EventFeed(Feed):
    """Widespread events (`/events/feed/`): an entry per event, updated as services join and when it ends."""

    feed_type = Atom1Feed
    title = "Tremor widespread events"
    subtitle = "Outages of many services at once (a cloud, CDN or network provider), newest first."
    author_name = "Tremor"

    def link(self) -> str:
        return reverse("home")

    def feed_guid(self) -> str:
        return "tag:tremor,2026:events"

    def items(self):
        return event_queryset().order_by("-updated_at", "-id")[:FEED_LENGTH]

    def item_title(self, item: WidespreadEvent) -> str:
        return event_headline(item)

    def item_description(self, item: WidespreadEvent) -> str:
        names = ", ".join(m.incident.service.name for m in item.members.all())
        return f"{event_chance_sentence(item)} Services, in the order they joined: {names}."

    def item_link(self, item: WidespreadEvent) -> str:
        return reverse("event", args=[item.pk])

    def item_guid(self, item: WidespreadEvent) -> str:
        return f"tag:tremor,2026:event:{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: WidespreadEvent):
        return item.detected_at

    def item_updateddate(self, item: WidespreadEvent):
        return item.updated_at

    def item_categories(self, item: WidespreadEvent):
        provider = [item.provider] if item.provider else []
        return [item.status, *(m.incident.service.slug for m in item.members.all()), *provider]
