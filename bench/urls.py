"""Tremor's URLs plus the references the benchmarks compare against (bench.settings only)."""

from django.urls import path

from config.urls import urlpatterns as tremor_urlpatterns

from . import views

urlpatterns = [
    path("bench/insert/", views.bare_insert, name="bench-insert"),
    path("bench/redis/", views.one_redis_call, name="bench-redis"),
    *tremor_urlpatterns,
]
