"""`GET /api/v1/events/` and `/api/v1/events/<id>/`: widespread events, many services at once."""

import django_filters
from django.db.models import Max, Q
from drf_spectacular.utils import extend_schema
from rest_framework import generics

from analytics.models import WidespreadEvent
from analytics.serializers import EventSerializer
from common.api.caching import ConditionalGetMixin
from common.api.filters import StrictFilterSet
from common.api.pagination import EventCursorPagination
from public.event_selectors import event_queryset
from reports.regions import REGIONS


class EventFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=WidespreadEvent.Status.choices)
    start = django_filters.IsoDateTimeFilter(method="filter_start", label="still ongoing at or ended after start")
    end = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt", label="started before end")
    service = django_filters.CharFilter(method="filter_service", label="has this service (slug) among its members")
    provider = django_filters.CharFilter(field_name="provider", label="named this provider as the likely cause")
    region = django_filters.ChoiceFilter(choices=[(r, r) for r in REGIONS], method="filter_region")

    class Meta:
        form = StrictFilterSet.Meta.form
        model = WidespreadEvent
        fields = ["status", "start", "end", "service", "provider", "region"]

    def filter_start(self, queryset, name, value):
        return queryset.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=value))

    def filter_service(self, queryset, name, value):
        return queryset.filter(members__incident__service__slug=value).distinct()

    def filter_region(self, queryset, name, value):
        # Worldwide events (no regions) cover every region. JSON containment is not portable to SQLite.
        rows = queryset.values_list("id", "scope")
        ids = [pk for pk, scope in rows if value in ((scope or {}).get("regions") or [value])]
        return queryset.filter(id__in=ids)


class EventListView(ConditionalGetMixin, generics.ListAPIView):
    serializer_class = EventSerializer
    filterset_class = EventFilter
    pagination_class = EventCursorPagination

    def get_queryset(self):
        return event_queryset()

    def get_last_modified(self, request, *args, **kwargs):
        # A member's own end shows in the event too: the newest of both.
        got = self.filter_queryset(WidespreadEvent.objects.all()).aggregate(
            event=Max("updated_at"), member=Max("members__incident__updated_at")
        )
        return max((at for at in got.values() if at is not None), default=None)

    @extend_schema(summary="Widespread events, newest first (cursor-paginated)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class EventDetailView(ConditionalGetMixin, generics.RetrieveAPIView):
    serializer_class = EventSerializer

    def get_queryset(self):
        return event_queryset()

    @extend_schema(summary="One widespread event")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
