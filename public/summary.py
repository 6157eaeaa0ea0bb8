"""The one-sentence status summary in plain words, for journalists on deadline.

Pure: takes the detector's level and the incident (as `IncidentSerializer` data or the
model's fields) and returns the sentence in the active language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import pandas as pd
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from analytics.core.levels import NORMAL, PROBLEMS
from reports.regions import region_places

MAX_NAMED = 2  # more than two codes or features reads like a list, not a sentence


def join_words(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return _("%(items)s and %(last)s") % {"items": ", ".join(words[:-1]), "last": words[-1]}


def _feature_word(name: str) -> str:
    # "Sentinel mode" reads "sentinel mode" mid-sentence; German nouns and acronyms keep capitals.
    if (get_language() or "en").startswith("de") or len(name) < 2 or name[1].isupper():
        return name
    return name[0].lower() + name[1:]


def _since(started_at: datetime, now: datetime) -> str:
    started = pd.Timestamp(started_at).tz_convert("UTC").to_pydatetime()
    clock = formats.time_format(started, "H:i")
    if started.date() == pd.Timestamp(now).tz_convert("UTC").date():
        return _("%(time)s UTC") % {"time": clock}
    day = formats.date_format(started, "MONTH_DAY_FORMAT")
    return _("%(date)s, %(time)s UTC") % {"date": day, "time": clock}


def status_sentence(
    *,
    service: str,
    level: int,
    incident: Mapping | None,
    feature_names: Mapping[str, str],
    now: datetime,
) -> str:
    """E.g. "User reports indicate problems at Tesla since 09:02 UTC, mostly in Europe:
    503 errors on sentinel mode and remote unlock."
    """
    if level <= NORMAL or incident is None:
        return _("User reports indicate no current problems at %(service)s.") % {"service": service}
    since = _since(incident["started_at"], now)
    if level >= PROBLEMS:
        head = _("User reports indicate problems at %(service)s since %(since)s") % {"service": service, "since": since}
    else:
        head = _("User reports indicate possible problems at %(service)s since %(since)s") % {
            "service": service,
            "since": since,
        }
    scope = incident.get("scope") or {}
    regions = [region_places().get(r, r) for r in scope.get("regions") or []]
    where = ""
    if regions and (incident.get("is_regional") or len(regions) <= MAX_NAMED):
        where = _(", mostly %(places)s") % {"places": join_words(regions[:MAX_NAMED])}
    elif regions:
        where = _(", in several regions")
    codes = [c for c in scope.get("codes") or [] if c != "none"][:MAX_NAMED]
    features = [_feature_word(feature_names.get(f, f)) for f in (scope.get("features") or [])[:MAX_NAMED]]
    what = ""
    if codes and features:
        what = _(": %(codes)s errors on %(features)s") % {"codes": join_words(codes), "features": join_words(features)}
    elif codes:
        what = _(": %(codes)s errors") % {"codes": join_words(codes)}
    elif features:
        what = _(": trouble with %(features)s") % {"features": join_words(features)}
    return f"{head}{where}{what}."
