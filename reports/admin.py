from django.contrib import admin, messages
from django.utils import timezone

from . import intake_log
from .models import ApiToken, Feature, Report, Service
from .tokens import token_create


class FeatureInline(admin.TabularInline):
    model = Feature
    extra = 1


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "active", "providers")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [FeatureInline]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("observed_at", "service", "feature", "code", "country", "region", "source")
    list_filter = ("source", "region", "service")
    # The fingerprint identifies reporters across reports: not for display.
    exclude = ("fingerprint",)
    list_select_related = ("service", "feature")
    date_hierarchy = "observed_at"

    def changelist_view(self, request, extra_context=None):
        # Reports acknowledged from the intake log appear here once the flusher stores them.
        try:
            lag, mode = intake_log.lag(), intake_log.mode()
        except Exception as exc:  # Redis down: say so rather than fail the page
            messages.warning(request, f"Intake log unreadable: {exc}")
        else:
            how = "acknowledged from the intake log" if mode.logged else f"stored directly ({mode.reason})"
            level = messages.WARNING if lag["oldest_seconds"] > 60 else messages.INFO
            messages.add_message(
                request, level, f"Single reports are {how}; {lag['unflushed']} waiting to be stored,"
                f" the oldest for {lag['oldest_seconds']:.0f} s.",
            )  # fmt: skip
        return super().changelist_view(request, extra_context)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    readonly_fields = ("prefix", "created_at", "last_used_at")
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, key = token_create(user=obj.user, name=obj.name, read_rate=obj.read_rate, bulk_rate=obj.bulk_rate)
        obj.pk, obj.prefix, obj.created_at = token.pk, token.prefix, token.created_at
        # The only time the key exists in clear: only its sha256 is stored.
        self.message_user(request, f"Token created. Copy the key now, it is not shown again: {key}", messages.WARNING)

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        n = queryset.filter(revoked_at=None).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {n} token(s).")
