"""Signals of the intake side, for the layers above (analytics) that must not be imported here."""

from django.dispatch import Signal

# Sent after reports were deleted (admin, queryset or instance deletes): `spans` maps each
# service id to the (first, last) observed_at of its deleted reports, so the minute
# buckets that counted them can be recomputed.
reports_deleted = Signal()
