"""The widespread event page (`/events/<id>/`): its services' curves, the map, the services in join order."""

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.core.grouping import provider_label
from analytics.models import WidespreadEvent
from analytics.selectors import breakdown

from . import charts, selectors
from .event_charts import curves_figure, normalised
from .event_selectors import event_queryset
from .event_text import event_chance_sentence, event_headline, event_provider_sentence
from .views import _chart_settings, _lang

# The chart draws this many services at most (the first to join); the list shows them all.
CHART_SERVICES = 20


def _window(event: WidespreadEvent) -> selectors.Window:
    now = timezone.now()
    end = min((event.ended_at or now) + timedelta(hours=1), now).replace(second=0, microsecond=0)
    start = event.started_at - timedelta(hours=2)
    return selectors.Window(key="event", start=start, end=end + timedelta(minutes=1), interval="15m")


def event_page(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(event_queryset(), pk=pk)
    members = list(event.members.all())
    win, lang = _window(event), _lang(request)
    curves, countries = [], {}
    for member in members[:CHART_SERVICES]:
        service = member.incident.service
        band = selectors.band(service_id=service.id, win=win)
        expected = band["expected"] if band is not None and "expected" in band else None
        curves.append((service.name, normalised(selectors.series(service_id=service.id, win=win), expected)))
        for row in breakdown(service_id=service.id, start=event.started_at, end=win.end, dimension="country"):
            countries[row["value"]] = countries.get(row["value"], 0) + int(row["count"])
    rows = [{"value": c, "count": n} for c, n in sorted(countries.items(), key=lambda kv: -kv[1])]
    context = {
        "event": event,
        "members": members,
        "headline": event_headline(event),
        "chance_sentence": event_chance_sentence(event),
        "provider_sentence": event_provider_sentence(event),
        "provider_label": provider_label(event.provider) if event.provider else "",
        "curves": {"id": "chart-event", "title": _("Reports of each service, times its usual level"),
                   "figure": curves_figure(curves, started_at=event.started_at, ended_at=event.ended_at,
                                           language=lang)},
        "map": {"id": "chart-event-map", "title": _("Reports by country"),
                "figure": charts.map_figure(rows, language=lang)},
        "countries": [{"name": charts.country_name(r["value"]), "count": r["count"]} for r in rows[:10]],
        "chart_settings": _chart_settings(request),
    }  # fmt: skip
    return render(request, "public/event.html", context)
