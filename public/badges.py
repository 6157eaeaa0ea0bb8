"""Service status for embedding: an SVG badge and a small JSON, both from ServiceStatus.

Both are cheap (one indexed read) and cache-friendly: an ETag of what they
show, and `max-age=60` because the detector re-evaluates once a minute.
"""

import hashlib
from html import escape

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.core.levels import LEVEL_NAMES
from analytics.models import Level, ServiceStatus
from common.api.caching import ConditionalGetMixin
from reports.models import Service

MAX_AGE = 60
# Label, colour: the three detector levels and "no verdict yet".
LOOK = {
    Level.NORMAL: (_("no problems"), "#2e7d32"),
    Level.POSSIBLE: (_("possible problems"), "#e37400"),
    Level.PROBLEMS: (_("problems"), "#c62828"),
    None: (_("unknown"), "#6b6b6b"),
}


def status_of(service: Service) -> ServiceStatus | None:
    return ServiceStatus.objects.filter(service=service).first()


def _text_width(text: str) -> int:
    # Close enough to Verdana 11px for a badge, without a font file.
    return int(sum(7.5 if c.isupper() else 6.2 for c in text)) + 10


def badge_svg(*, label: str, message: str, colour: str) -> str:
    lw, mw = _text_width(label), _text_width(message)
    label, message = escape(label), escape(message)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lw + mw}" height="20" role="img" '
        f'aria-label="{label}: {message}"><title>{label}: {message}</title>'
        f'<rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{mw}" height="20" fill="{colour}"/>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{lw / 2}" y="14">{label}</text><text x="{lw + mw / 2}" y="14">{message}</text></g></svg>'
    )


def badge(request: HttpRequest, slug: str) -> HttpResponse:
    service = get_object_or_404(Service, slug=slug, active=True)
    status = status_of(service)
    message, colour = LOOK[Level(status.level) if status else None]
    svg = badge_svg(label=service.name, message=str(message), colour=colour)
    etag = '"' + hashlib.sha256(svg.encode()).hexdigest()[:32] + '"'
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    return get_conditional_response(request, etag=etag, response=response)


class ServiceStatusOut(serializers.Serializer):
    service = serializers.CharField()
    level = serializers.ChoiceField(choices=[*LEVEL_NAMES.values(), "unknown"])
    incident = serializers.IntegerField(allow_null=True, help_text="Id of the ongoing incident, if any.")
    evaluated_at = serializers.DateTimeField(allow_null=True, help_text="When the detector last looked.")


class ServiceStatusView(ConditionalGetMixin, APIView):
    cache_control = {"public": True, "max_age": MAX_AGE}

    def get_last_modified(self, request, slug: str):
        status = self._status(slug)
        return status.evaluated_at if status else None

    def _status(self, slug: str) -> ServiceStatus | None:
        if not hasattr(self, "_cached"):
            self.service = get_object_or_404(Service, slug=slug, active=True)
            self._cached = status_of(self.service)
        return self._cached

    @extend_schema(responses=ServiceStatusOut, summary="The detector's current verdict for one service")
    def get(self, request, slug: str):
        status = self._status(slug)
        return Response(
            {
                "service": self.service.slug,
                "level": Level(status.level).label if status else "unknown",
                "incident": status.incident_id if status else None,
                "evaluated_at": status.evaluated_at if status else None,
            }
        )
