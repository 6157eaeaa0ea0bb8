from django.contrib import admin

from .models import Feature, Report, Service


class FeatureInline(admin.TabularInline):
    model = Feature
    extra = 1


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "active")
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
