"""Pure parsing of what status pages answer: Statuspage JSON, RSS 2.0 and Atom. No Django, no network.

Everything here takes bytes that a stranger controls: JSON and XML errors, wrong types, absurd
nesting and XML entity tricks (defusedxml refuses them) all end as a ParseError, never as
another exception reaching the worker.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

# Statuspage's page indicator -> our status (official.models.Status values).
STATUSPAGE_STATUS = {
    "none": "operational",
    "minor": "degraded",
    "major": "partial_outage",
    "critical": "major_outage",
    "maintenance": "maintenance",
}
# A feed has no status field: its newest entry counts as an ongoing problem for this long
# unless it says the problem is over.
FEED_ENTRY_LIFETIME = timedelta(hours=6)
_OVER = re.compile(r"\b(resolved|restored|operational|fixed|completed|back to normal)\b", re.IGNORECASE)
_ATOM = "{http://www.w3.org/2005/Atom}"


class ParseError(ValueError):
    pass


@dataclass(frozen=True)
class Published:
    """One official incident or post."""

    external_id: str
    title: str
    acknowledged_at: datetime
    state: str = ""
    impact: str = ""
    url: str = ""
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class Snapshot:
    """What one poll learnt: the status (None when the answer did not say) and the incidents."""

    status: str | None
    changed_at: datetime | None = None
    incidents: list[Published] = field(default_factory=list)


def _json(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ParseError(f"invalid JSON: {str(exc)[:120]}") from None
    if not isinstance(data, dict):
        raise ParseError("JSON answer is not an object")
    return data


def _iso(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def _text(value: object, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def statuspage_summary(body: bytes) -> Snapshot:
    """/api/v2/summary.json: the page indicator and its unresolved incidents."""
    data = _json(body)
    status = data.get("status")
    indicator = status.get("indicator") if isinstance(status, dict) else None
    if indicator not in STATUSPAGE_STATUS:
        raise ParseError(f"summary.json: unknown status indicator {str(indicator)[:40]!r}")
    page = data.get("page") if isinstance(data.get("page"), dict) else {}
    return Snapshot(
        status=STATUSPAGE_STATUS[indicator],
        changed_at=_iso(page.get("updated_at")),
        incidents=_statuspage_incidents(data.get("incidents", [])),
    )


def statuspage_incidents(body: bytes) -> Snapshot:
    """/api/v2/incidents.json: the recent incidents, resolved or not (no status of the page)."""
    data = _json(body)
    if not isinstance(data.get("incidents"), list):
        raise ParseError("incidents.json: no list of incidents")
    return Snapshot(status=None, incidents=_statuspage_incidents(data["incidents"]))


def _statuspage_incidents(items: object) -> list[Published]:
    if not isinstance(items, list):
        raise ParseError("incidents: not a list")
    out = []
    for item in items[:200]:
        if not isinstance(item, dict):
            continue
        ident, created = _text(item.get("id"), 200), _iso(item.get("created_at"))
        if not ident or created is None:
            continue  # an incident without id or date cannot be tracked: skip it, keep the others
        out.append(
            Published(
                external_id=ident,
                title=_text(item.get("name"), 300) or ident,
                state=_text(item.get("status"), 32),
                impact=_text(item.get("impact"), 32),
                url=_text(item.get("shortlink"), 500),
                acknowledged_at=created,
                resolved_at=_iso(item.get("resolved_at")),
            )
        )
    return out


def feed(body: bytes, *, now: datetime) -> Snapshot:
    """An RSS 2.0 or Atom feed: each entry an official incident or post; the status from the newest."""
    try:
        root = ElementTree.fromstring(body)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise ParseError(f"invalid feed XML: {str(exc)[:120]}") from None
    if root.tag == "rss":
        entries = [_rss_entry(item) for item in root.iter("item")]
    elif root.tag == f"{_ATOM}feed":
        entries = [_atom_entry(entry) for entry in root.iter(f"{_ATOM}entry")]
    else:
        raise ParseError(f"not an RSS or Atom feed (root element {root.tag[:60]!r})")
    published = [e for e in entries if e is not None][:200]
    if not published:
        return Snapshot(status="operational")
    newest = max(published, key=lambda e: e.acknowledged_at)
    ongoing = newest.state != "resolved" and now - newest.acknowledged_at < FEED_ENTRY_LIFETIME
    return Snapshot(
        status="degraded" if ongoing else "operational",
        changed_at=newest.acknowledged_at,
        incidents=published,
    )


def _feed_state(text: str) -> str:
    return "resolved" if _OVER.search(text) else ""


def _child(element, name: str) -> str:
    found = element.find(name)
    return (found.text or "").strip() if found is not None else ""


def _rss_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def _rss_entry(item) -> Published | None:
    when = _rss_date(_child(item, "pubDate"))
    link = _child(item, "link")
    ident = _child(item, "guid") or link
    if when is None or not ident:
        return None
    return Published(
        external_id=ident[:200],
        title=_child(item, "title")[:300] or ident[:300],
        state=_feed_state(_child(item, "title") + " " + _child(item, "description")),
        url=link[:500] if link.startswith(("http://", "https://")) else "",
        acknowledged_at=when,
    )


def _atom_entry(entry) -> Published | None:
    when = _iso(_child(entry, f"{_ATOM}published") or _child(entry, f"{_ATOM}updated"))
    ident = _child(entry, f"{_ATOM}id")
    if when is None or not ident:
        return None
    link = entry.find(f"{_ATOM}link")
    href = (link.get("href") or "") if link is not None else ""
    return Published(
        external_id=ident[:200],
        title=_child(entry, f"{_ATOM}title")[:300] or ident[:300],
        state=_feed_state(_child(entry, f"{_ATOM}title") + " " + _child(entry, f"{_ATOM}summary")),
        url=href[:500] if href.startswith(("http://", "https://")) else "",
        acknowledged_at=when,
    )
