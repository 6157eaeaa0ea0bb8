from django.contrib import admin

from .models import OfficialIncident, Source, StatusChange


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("service", "kind", "url", "status", "last_success_at", "consecutive_failures", "last_error")
    list_filter = ("kind", "status")
    search_fields = ("service__slug", "service__name", "url")
    list_select_related = ("service",)
    readonly_fields = (
        "status", "status_since", "validators", "next_poll_at", "last_polled_at", "last_success_at",
        "consecutive_failures", "last_error",
    )  # fmt: skip


@admin.register(StatusChange)
class StatusChangeAdmin(admin.ModelAdmin):
    list_display = ("source", "previous", "status", "changed_at", "seen_at")
    list_filter = ("status",)
    list_select_related = ("source__service",)


@admin.register(OfficialIncident)
class OfficialIncidentAdmin(admin.ModelAdmin):
    list_display = ("title", "source", "state", "impact", "acknowledged_at", "resolved_at")
    list_filter = ("state",)
    list_select_related = ("source__service",)
