"""Journalists' pages: service status, incidents, embeds, chart data (JSON) and exports (CSV)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET
from redis.exceptions import RedisError

from analytics.models import Incident, Level
from analytics.selectors import breakdown
from analytics.serializers import IncidentSerializer
from official import selectors as official
from reports.codes import code_label
from reports.models import Service
from reports.regions import region_names

from . import charts, selectors
from .event_selectors import ongoing_events
from .summary import status_sentence

CHARTS = ("timeline", "map", *selectors.BREAKDOWNS)


def _lang(request: HttpRequest) -> str:
    return (getattr(request, "LANGUAGE_CODE", None) or "en")[:2]


def _chart_settings(request: HttpRequest, range_key: str | None = None) -> dict:
    # A folder URL: plotly.js appends "world_110m.json" itself (whitenoise serves unhashed names too).
    return {
        "language": _lang(request),
        "topojsonURL": f"{settings.STATIC_URL}vendor/topojson/",
        "range": range_key,
        # The detector re-evaluates once a minute; tests shorten this through settings.
        "refreshSeconds": getattr(settings, "TREMOR_PAGE_REFRESH_SECONDS", 60),
    }


def _service(slug: str) -> Service:
    return get_object_or_404(Service, slug=slug, active=True)


def _titles() -> dict[str, str]:
    return {
        "timeline": _("Reports compared with typical levels"),
        "map": _("Reports by country"),
        "region": _("Reports by region"),
        "code": _("Most reported error codes"),
        "feature": _("Most reported problems"),
    }


def _labels(service: Service, dimension: str) -> dict[str, str]:
    if dimension == "region":
        return region_names()
    if dimension == "feature":
        return selectors.feature_names(service)
    return {}


def _breakdown_rows(service: Service, win: selectors.Window, dimension: str) -> list[dict]:
    rows = breakdown(service_id=service.id, start=win.start, end=win.end, dimension=dimension)
    if dimension == "code":
        labels = {row["value"]: code_label(row["value"]) for row in rows}
    elif dimension == "country":
        labels = {row["value"]: charts.country_name(row["value"]) for row in rows}
    else:
        labels = _labels(service, dimension)
    return [{**row, "label": labels.get(row["value"], row["value"])} for row in rows]


def _cache_seconds() -> int:
    return getattr(settings, "TREMOR_CHART_CACHE_SECONDS", 60)


def _cached(key: str, compute):
    """`compute()` through Redis for the rest of the minute; straight from the database if Redis is down."""
    seconds = _cache_seconds()
    if seconds <= 0:
        return compute()
    try:
        hit = cache.get(key)
    except RedisError:
        hit = None
    if hit is not None:
        return hit
    value = compute()
    try:
        cache.set(key, value, timeout=seconds)
    except RedisError:
        pass
    return value


def _series_and_band(service: Service, win: selectors.Window):
    """Reports per bucket and the normal band: the timeline chart and its CSV share one read."""
    key = f"series:{service.id}:{win.start:%Y%m%d%H%M}:{win.end:%Y%m%d%H%M}:{win.interval}"
    return _cached(
        key, lambda: (selectors.series(service_id=service.id, win=win), selectors.band(service_id=service.id, win=win))
    )


def cached_chart(*, service: Service, name: str, win: selectors.Window, lang: str) -> dict:
    """`build_chart` through the cache: a window ends on a whole minute, so every page and
    refresh of that minute (and language) shares one payload; the detector moves once a minute too."""
    key = f"chart:{service.id}:{name}:{win.key}:{win.end:%Y%m%d%H%M}:{lang}"
    return _cached(key, lambda: build_chart(service=service, name=name, win=win, lang=lang))


def build_chart(
    *,
    service: Service,
    name: str,
    win: selectors.Window,
    lang: str,
    incidents: list[dict] | None = None,
    peak_at=None,
) -> dict:
    """One chart of a service: the plotly figure and its text alternative (HTML)."""
    if name == "timeline":
        counts, band = _series_and_band(service, win)
        if incidents is None:
            incidents = selectors.incidents_between(service_id=service.id, start=win.start, end=win.end)
        figure = charts.timeline_figure(
            counts, interval=win.interval, band=band, incidents=incidents, end=win.end, peak_at=peak_at, language=lang
        )
        facts = charts.timeline_facts(counts, band)
        alt = render_to_string(
            "public/_alt_timeline.html",
            {"facts": facts, "per": charts.per_interval_label(win.interval), "incidents": incidents},
        )
        return {"figure": figure, "alt_html": alt}
    dimension = "country" if name == "map" else name
    rows = _breakdown_rows(service, win, dimension)
    if name == "map":
        figure = charts.map_figure(rows, language=lang)
    else:
        figure = charts.breakdown_figure(rows, labels={r["value"]: r["label"] for r in rows}, language=lang)
    alt = render_to_string("public/_alt_breakdown.html", {"rows": rows[:10], "dimension": dimension})
    return {"figure": figure, "alt_html": alt}


def _chart_context(
    service: Service, win: selectors.Window, lang: str, names=CHARTS, incidents=None, inline=("timeline",)
) -> list[dict]:
    """Charts of a page; those in `inline` come with their figure, the others load from their JSON at once.

    Building all five charts in the page's own request would take as long as the five requests
    together; the timeline (and its text) is in the HTML, the map and bars follow in parallel.
    """
    titles = _titles()
    out = []
    for name in names:
        if name in inline and incidents is None:
            chart = cached_chart(service=service, name=name, win=win, lang=lang)
        elif name in inline:
            chart = build_chart(service=service, name=name, win=win, lang=lang, incidents=incidents)
        else:
            chart = {"figure": None, "alt_html": ""}
        base = reverse("chart-data", args=[service.slug, name, "json"])
        csv = reverse("chart-data", args=[service.slug, name, "csv"])
        out.append(
            {
                "name": name,
                "id": f"chart-{name}",
                "data_id": f"chart-{name}-data",
                "title": titles[name],
                "json_url": base,
                "csv_base": csv,
                "csv_url": f"{csv}?range={win.key}",
                **chart,
            }
        )
    return out


def _status_context(service: Service) -> dict:
    level, incident = selectors.status(service)
    sentence = status_sentence(
        service=service.name,
        level=level,
        incident=incident,
        feature_names=selectors.feature_names(service),
        now=timezone.now(),
    )
    return {"level": level, "level_label": Level(level).label, "incident": incident, "sentence": sentence}


def service_page(request: HttpRequest, slug: str) -> HttpResponse:
    service = _service(slug)
    row = selectors.recent_counts(service.id)
    win = selectors.window(request.GET.get("range"))
    context = {
        "service": service,
        "row": row,
        "range": win.key,
        "ranges": list(selectors.RANGES),
        "charts": _chart_context(service, win, _lang(request)),
        "comments": selectors.recent_comments(service_id=service.id),
        "past_incidents": selectors.recent_incidents(service_id=service.id),
        "embed_url": request.build_absolute_uri(reverse("embed-status", args=[slug])),
        "chart_settings": _chart_settings(request, win.key),
        "official": official.service_official(service.id),
        **_status_context(service),
    }
    return render(request, "public/service.html", context)


def home(request: HttpRequest) -> HttpResponse:
    """Services with their status and a 24-hour sparkline; problems first."""
    q = request.GET.get("q", "")[:100].strip()
    win = selectors.window("24h")
    if q:
        rows = _home_rows(Service.objects.filter(active=True, name__icontains=q), win)
    else:
        # Anonymous and the same for everyone within a minute: one computation per minute, not per visit.
        rows = _cached(f"home:{win.end:%Y%m%d%H%M}", lambda: _home_rows(Service.objects.filter(active=True), win))
    unacknowledged = request.GET.get("official") == "unacknowledged"
    if unacknowledged:
        keep = official.unacknowledged_service_ids({row["service"].id: row["level"] for row in rows})
        rows = [row for row in rows if row["service"].id in keep]
    context = {"rows": rows, "q": q, "events": ongoing_events(), "unacknowledged": unacknowledged}
    return render(request, "public/home.html", context)


def _home_rows(services, win: selectors.Window) -> list[dict]:
    rows = selectors.services_with_counts(services=services)
    ids = [row["service"].id for row in rows]
    service_levels = selectors.levels(ids)
    day = selectors.Window(key="24h", start=win.start, end=win.end, interval="1h")
    # One read for every sparkline: it was a few queries per service, unbounded in the number of services.
    day_series = selectors.series_by_service(service_ids=ids, win=day) if ids else {}
    for row in rows:
        row["level"] = service_levels.get(row["service"].id, Level.NORMAL)
        row["level_label"] = Level(row["level"]).label
        row["sparkline"] = charts.sparkline_points(day_series[row["service"].id])
    rows.sort(key=lambda row: -row["level"])  # stable: within a level, most reports in the last hour first
    return rows


@require_GET
def chart_data(request: HttpRequest, slug: str, name: str, fmt: str) -> HttpResponse:
    if name not in CHARTS or fmt not in ("json", "csv"):
        raise Http404
    service = _service(slug)
    win = selectors.window(request.GET.get("range"))
    if fmt == "csv":
        return _csv(service, name, win)
    chart = cached_chart(service=service, name=name, win=win, lang=_lang(request))
    return JsonResponse({"range": win.key, "interval": win.interval, **chart})


def _csv(service: Service, name: str, win: selectors.Window, filename: str | None = None) -> HttpResponse:
    if name == "timeline":
        body = charts.timeline_csv(*_series_and_band(service, win))
    else:
        dimension = "country" if name == "map" else name
        rows = breakdown(service_id=service.id, start=win.start, end=win.end, dimension=dimension)
        body = charts.breakdown_csv(rows, dimension=dimension)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    filename = filename or f"tremor-{service.slug}-{name}-{win.key}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def status_json(request: HttpRequest, slug: str) -> JsonResponse:
    service = _service(slug)
    row = selectors.recent_counts(service.id)
    status = _status_context(service)
    hour, day = row["reports_last_hour"], row["reports_last_24h"]
    return JsonResponse(
        {
            "sentence": status["sentence"],
            "level": status["level_label"],
            "reports_last_hour": hour,
            "reports_last_24h": day,
            "texts": {
                "count-hour": ngettext("%(n)s report in the last hour", "%(n)s reports in the last hour", hour)
                % {"n": hour},
                "count-day": ngettext("%(n)s report in the last 24 hours", "%(n)s reports in the last 24 hours", day)
                % {"n": day},
            },
        }
    )


def _incident_context(request: HttpRequest, incident: Incident) -> dict:
    win = selectors.incident_window(incident)
    data = IncidentSerializer(incident).data
    chart = build_chart(
        service=incident.service, name="timeline", win=win, lang=_lang(request), incidents=[data],
        peak_at=incident.peak_at,
    )  # fmt: skip
    chart.update(
        {
            "name": "timeline",
            "id": "chart-incident",
            "data_id": "chart-incident-data",
            "title": _("Reports during the incident"),
            "json_url": reverse("incident-chart", args=[incident.id, "json"]),
            "csv_url": reverse("incident-chart", args=[incident.id, "csv"]),
        }
    )
    countries = (incident.scope_shares or {}).get("countries", {})
    labels = {
        "regions": region_names(),
        "features": selectors.feature_names(incident.service),
        "countries": {code: charts.country_name(code) for code in countries},
        "codes": {"none": code_label("none")},
    }
    scope = [
        {
            "title": title,
            "rows": [
                {"label": labels.get(dim, {}).get(v, v), "share": share}
                # Largest share first: PostgreSQL's jsonb does not keep the stored key order.
                for v, share in sorted((incident.scope_shares or {}).get(dim, {}).items(), key=lambda kv: -kv[1])
            ],
        }
        for dim, title in (
            ("regions", _("Regions")),
            ("countries", _("Countries")),
            ("codes", _("Error codes")),
            ("features", _("Features")),
        )
    ]
    times = [
        (_("Start"), incident.started_at, "start"),
        (_("Peak"), incident.peak_at, "peak"),
        (_("End"), incident.ended_at, "end"),
    ]
    return {
        "incident": incident,
        "times": times,
        "chart_settings": _chart_settings(request),
        "data": data,
        "chart": chart,
        "scope": [s for s in scope if s["rows"]],
        "official": official.incident_acknowledgement(incident),
        "permalink": request.build_absolute_uri(reverse("incident", args=[incident.id])),
        "embed_url": request.build_absolute_uri(reverse("embed-incident", args=[incident.id])),
    }


def _incident(pk: int) -> Incident:
    return get_object_or_404(Incident.objects.select_related("service"), pk=pk)


def incident_page(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "public/incident.html", _incident_context(request, _incident(pk)))


@require_GET
def incident_chart(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    incident = _incident(pk)
    win = selectors.incident_window(incident)
    if fmt == "csv":
        return _csv(incident.service, "timeline", win, filename=f"tremor-incident-{pk}.csv")
    if fmt != "json":
        raise Http404
    data = IncidentSerializer(incident).data
    chart = build_chart(
        service=incident.service, name="timeline", win=win, lang=_lang(request), incidents=[data],
        peak_at=incident.peak_at,
    )  # fmt: skip
    return JsonResponse({"interval": win.interval, **chart})


@xframe_options_exempt
def embed_status(request: HttpRequest, slug: str) -> HttpResponse:
    service = _service(slug)
    win = selectors.window(request.GET.get("range"))
    (chart,) = _chart_context(service, win, _lang(request), names=("timeline",))
    context = {
        "service": service,
        "chart": chart,
        "range": win.key,
        "chart_settings": _chart_settings(request, win.key),
        "link": request.build_absolute_uri(reverse("service", args=[slug])),
        **_status_context(service),
    }
    return render(request, "public/embed.html", context)


@xframe_options_exempt
def embed_incident(request: HttpRequest, pk: int) -> HttpResponse:
    context = _incident_context(request, _incident(pk))
    context.update({"service": context["incident"].service, "link": context["permalink"]})
    return render(request, "public/embed.html", context)
