from django.contrib import admin

from .models import Delivery, DeliveryAttempt, Event, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("url", "owner", "is_active", "min_level", "consecutive_failures", "disabled_reason", "created_at")
    list_filter = ("is_active",)
    filter_horizontal = ("services",)
    readonly_fields = ("consecutive_failures", "disabled_at", "created_at", "updated_at")


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "at", "status_code", "latency_ms", "error")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("event", "subscription", "status", "attempts", "last_status_code", "next_attempt_at")
    list_filter = ("status",)
    list_select_related = ("event", "subscription")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [AttemptInline]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("type", "uid", "incident", "occurred_at", "fanned_out_at")
    list_filter = ("type",)
    readonly_fields = ("uid", "incident", "type", "occurred_at", "payload", "fanned_out_at")
