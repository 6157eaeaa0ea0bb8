"""Signals of the intake side, for the layers above (analytics) that must not be imported here."""

from django.dispatch import Signal

# Sent after reports were deleted (admin, queryset or instance deletes): `spans` maps each
# service id to the (first, last) observed_at of its deleted reports, so the minute
# buckets that counted them can be recomputed.
reports_deleted = Signal()

# Sent by `services_import` for each row, inside its transaction, with `service`, `row` (the CSV
# row as a dict) and `line`: apps above (official) read their own columns; a receiver raising
# ValueError aborts the whole import.
service_imported = Signal()
