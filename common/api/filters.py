"""Query filters of API lists that say no to what they cannot use.

django-filter skips a parameter sent empty (`?start=`) or unreadable
(`?is_active=null`): the client asked for a filter and silently got none.
Here either is a 400 naming it.
"""

from datetime import UTC, datetime

from django import forms
from django_filters import FilterSet
from django_filters.rest_framework import DjangoFilterBackend


class _NoEmptyValuesForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        for name, field in self.fields.items():
            values = self.data.getlist(name) if name in self.data else []
            if isinstance(field, forms.NullBooleanField):
                # django-filter reads anything it does not know ("null", "maybe") as "no filter".
                if any(value.lower() not in ("true", "false") for value in values):
                    self.add_error(name, "Must be true or false.")
            elif values and all(value == "" for value in values) and type(field) is not forms.CharField:
                # An empty string is a string (no filter), but no date-time, choice or number.
                self.add_error(name, "Must not be empty: leave the parameter out instead.")
        for name, value in list(cleaned.items()):
            if isinstance(value, datetime) and value.tzinfo is not None:
                # In UTC: PostgreSQL cannot take an offset beyond ±15:59, which ISO 8601 allows.
                try:
                    cleaned[name] = value.astimezone(UTC)
                except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
                    self.add_error(name, "Out of the supported range of dates.")
        return cleaned


class StrictFilterSet(FilterSet):
    class Meta:
        form = _NoEmptyValuesForm


class StrictFilterBackend(DjangoFilterBackend):
    """For views that declare only `filterset_fields`: their generated FilterSet is strict too."""

    filterset_base = StrictFilterSet
