"""Webhook management for token holders: `/api/v1/webhooks/...` (see docs/api.md)."""

from django.conf import settings
from django.db import models, transaction
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.core.lifecycle import EVENT_TYPES
from analytics.models import Level
from analytics.widespread import EVENT_TYPES as WIDESPREAD_TYPES
from common.api.caching import ConditionalGetMixin
from common.api.pagination import DeliveryCursorPagination, SubscriptionCursorPagination
from official.events import EVENT_TYPE as OFFICIAL_EVENT
from reports.models import Service
from reports.regions import REGIONS

from . import services, tasks, transport
from .models import DeliveryAttempt, Subscription

LEVELS = {Level(v).label: v for v in (Level.POSSIBLE, Level.PROBLEMS)}


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: DRF also takes 0, 1, "yes", "off"..., which the schema does not promise."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class _SlugList(serializers.ManyRelatedField):
    def to_internal_value(self, data):
        if not isinstance(data, list):  # DRF iterates any iterable: {} passed as an empty list
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


class _Slug(serializers.SlugRelatedField):
    """A service slug; NUL refused first, in words, as CharField does: PostgreSQL cannot even query it."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            raise serializers.ValidationError("Null characters are not allowed.")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A JSON string only: DRF also turns numbers into text, which the schema does not promise."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class SubscriptionSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }
    is_active = StrictBooleanField(required=False, default=True)
    services = _SlugList(
        child_relation=_Slug(slug_field="slug", queryset=Service.objects.filter(active=True)),
        required=False,
    )
    regions = serializers.ListField(child=serializers.ChoiceField(choices=REGIONS), required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=[*EVENT_TYPES, OFFICIAL_EVENT, *WIDESPREAD_TYPES]), required=False
    )
    min_level = serializers.ChoiceField(choices=list(LEVELS), required=False, default="possible")
    secret = StrictCharField(
        write_only=True, required=False, min_length=24, max_length=128, help_text="Default: generated."
    )

    class Meta:
        model = Subscription
        fields = [
            "id", "url", "description", "services", "regions", "min_level", "events", "secret", "is_active",
            "disabled_at", "disabled_reason", "consecutive_failures", "created_at",
        ]  # fmt: skip
        read_only_fields = ["disabled_at", "disabled_reason", "consecutive_failures", "created_at"]

    def validate_url(self, url: str) -> str:
        try:
            transport.check_target(url, allow_private=settings.TREMOR_WEBHOOK_ALLOW_PRIVATE_TARGETS)
        except transport.TargetRefused as exc:
            raise serializers.ValidationError(str(exc)) from None
        return url

    def validate_min_level(self, label: str) -> int:
        return LEVELS[label]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["min_level"] = Level(instance.min_level).label
        return data


class SubscriptionCreatedSerializer(SubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown once: verify signatures with it.")


class SubscriptionListView(ConditionalGetMixin, generics.ListCreateAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = SubscriptionSerializer
    pagination_class = SubscriptionCursorPagination
    filterset_fields = ["is_active"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Subscription.objects.none()
        return Subscription.objects.filter(owner=self.request.user).prefetch_related("services")

    @extend_schema(responses={201: SubscriptionCreatedSerializer}, summary="Subscribe to incident events")
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.setdefault("secret", services.new_secret())
        subscription = serializer.save(owner=request.user, secret=data["secret"])
        return Response(SubscriptionCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED)


class SubscriptionDetailView(ConditionalGetMixin, generics.RetrieveUpdateDestroyAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = SubscriptionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Subscription.objects.none()
        return Subscription.objects.filter(owner=self.request.user).prefetch_related("services")

    def perform_update(self, serializer):
        was_active = serializer.instance.is_active
        subscription = serializer.save()
        if subscription.is_active and not was_active:
            # Back on: what piled up while it was off goes out now, in order.
            pairs = services.subscription_reenable(subscription=subscription)
            transaction.on_commit(lambda: [tasks.deliver.delay(s, i) for s, i in pairs])


class RotateSecretView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=SubscriptionCreatedSerializer, summary="Replace the signing secret")
    def post(self, request, pk: int):
        subscription = generics.get_object_or_404(Subscription.objects.filter(owner=request.user), pk=pk)
        subscription.secret = services.new_secret()
        subscription.save(update_fields=["secret", "updated_at"])
        return Response(SubscriptionCreatedSerializer(subscription).data)


class AttemptSerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(source="delivery.event.uid")
    event = serializers.CharField(source="delivery.event.type")
    incident = serializers.IntegerField(source="delivery.incident_id")
    delivery_status = serializers.CharField(source="delivery.status")
    attempt = serializers.IntegerField(source="number")

    class Meta:
        model = DeliveryAttempt
        fields = ["id", "event_id", "event", "incident", "attempt", "at", "status_code", "latency_ms", "error",
                  "delivery_status"]  # fmt: skip


class DeliveryLogView(ConditionalGetMixin, generics.ListAPIView):
    """Every attempt to deliver to this subscription, newest first."""

    permission_classes = [IsAuthenticated]
    serializer_class = AttemptSerializer
    pagination_class = DeliveryCursorPagination
    filterset_fields = ["status_code"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DeliveryAttempt.objects.none()
        subscription = generics.get_object_or_404(
            Subscription.objects.filter(owner=self.request.user), pk=self.kwargs["pk"]
        )
        return DeliveryAttempt.objects.filter(delivery__subscription=subscription).select_related("delivery__event")
