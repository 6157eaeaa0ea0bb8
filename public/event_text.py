"""Plain words for a widespread event: its headline, the chance sentence, the provider sentence.

Translated (gettext) for the pages; the feed renders them in the default language.
"""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from analytics.core.grouping import expected_by_chance, provider_label
from analytics.models import WidespreadEvent


def _members(event: WidespreadEvent) -> list:
    return list(event.members.all())


def span_minutes(event: WidespreadEvent) -> float:
    starts = [m.incident.started_at for m in _members(event)]
    return (max(starts) - min(starts)).total_seconds() / 60 if starts else 0.0


def event_headline(event: WidespreadEvent) -> str:
    n = len(_members(event))
    head = ngettext("%(n)d service at once", "%(n)d services at once", n) % {"n": n}
    if event.provider:
        head += " — " + _("likely %(provider)s") % {"provider": provider_label(event.provider)}
    state = _("ongoing") if event.status == WidespreadEvent.Status.ONGOING else _("resolved")
    return f"{head} ({state})"


def event_chance_sentence(event: WidespreadEvent) -> str:
    """'12 services within 6 minutes; by chance about 0.1 would be expected.'"""
    n, span = len(_members(event)), span_minutes(event)
    expected = expected_by_chance(rate=event.rate_per_minute, span_minutes=span)
    services = ngettext("%(n)d service", "%(n)d services", n) % {"n": n}
    minutes = round(max(span, 1))
    within = ngettext("within %(m)d minute", "within %(m)d minutes", minutes) % {"m": minutes}
    return _("%(services)s %(within)s; by chance about %(expected)s would be expected.") % {
        "services": services, "within": within, "expected": f"{expected:.2g}",
    }  # fmt: skip


def event_provider_sentence(event: WidespreadEvent) -> str:
    """'9 of 12 services run on AWS us-east-1 (25% of all services): a likely common cause, not a certainty.'"""
    if not event.provider:
        return ""
    n = len(_members(event))
    return _(
        "%(m)d of %(n)d services run on %(provider)s (%(share)s of all services do): "
        "a likely common cause, not a certainty."
    ) % {
        "m": event.provider_members, "n": n, "provider": provider_label(event.provider),
        "share": f"{(event.provider_share or 0) * 100:.0f}%",
    }  # fmt: skip
