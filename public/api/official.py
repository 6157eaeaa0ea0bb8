"""`GET /api/v1/services/<slug>/official/`: the official status history of a service."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.caching import ConditionalGetMixin
from official import selectors
from official.serializers import OfficialHistoryOut, OfficialIncidentOut, StatusChangeOut, service_official_data
from reports.models import Service

MAX_LIMIT = 500


class OfficialHistoryView(ConditionalGetMixin, APIView):
    @extend_schema(
        parameters=[OpenApiParameter("limit", int, description=f"Default 100, at most {MAX_LIMIT}.")],
        responses=OfficialHistoryOut,
        summary="The official status of a service: now, its lead statistics, and its history",
        operation_id="v1_services_official",
    )
    def get(self, request, slug: str):
        service = get_object_or_404(Service, slug=slug, active=True)
        raw = request.query_params.get("limit", "100")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise ValidationError({"limit": [f"An integer from 1 to {MAX_LIMIT}."]})
        changes, incidents = selectors.history(service_id=service.id, limit=int(raw))
        return Response(
            {
                "service": service.slug,
                "official": service_official_data(selectors.service_official(service.id)),
                "changes": StatusChangeOut(changes, many=True).data,
                "incidents": OfficialIncidentOut(incidents, many=True).data,
            }
        )
