"""The demo service's official status page (`./tremor up`): Statuspage JSON served by Tremor's own web
process at /demo/status-page/ (only with TREMOR_DEMO_STATUS_PAGE), polled like any other page.

It acknowledges the replayed 14 Feb 2023 outage late, as companies do: 45 minutes after the onset
of the crowd's reports, so the pages show Tremor's lead. The times follow the demo stream, which
ends when the demo service was created (its `created_at`).
"""

import hashlib
import json
from datetime import datetime, timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from reports.models import Service

from . import scenarios

SERVICE = "tesla"
ACKNOWLEDGED_AFTER_ONSET = timedelta(minutes=45)
RESOLVED_AFTER_END = timedelta(minutes=30)
DOCUMENTS = ("summary.json", "incidents.json")


def _iso(at) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def documents(*, seeded_at: datetime, now: datetime) -> dict[str, dict]:
    """The page's two documents as they read at `now` (major outage from the late acknowledgement on)."""
    truth = scenarios.demo_truth(now=seeded_at)
    acknowledged = truth["onset"].to_pydatetime() + ACKNOWLEDGED_AFTER_ONSET
    resolved = truth["end"].to_pydatetime() + RESOLVED_AFTER_END
    ongoing = acknowledged <= now < resolved
    incident = {
        "id": "demo-2023-02-14",
        "name": "Tesla app: remote commands unavailable in Europe",
        "status": "investigating" if ongoing else "resolved",
        "impact": "major",
        "created_at": _iso(acknowledged),
        "resolved_at": None if ongoing else _iso(resolved),
        "shortlink": "",
    }
    visible = [incident] if now >= acknowledged else []
    page = {"id": "tremor-demo", "name": "Tesla (demo)", "updated_at": _iso(acknowledged if ongoing else resolved)}
    return {
        "summary.json": {
            "page": page,
            "status": {"indicator": "major" if ongoing else "none"},
            "components": [],
            "incidents": [incident] if ongoing else [],
        },
        "incidents.json": {"page": page, "incidents": visible},
    }


@require_GET
def status_page(request: HttpRequest, name: str) -> HttpResponse:
    if not settings.TREMOR_DEMO_STATUS_PAGE or name not in DOCUMENTS:
        raise Http404
    service = Service.objects.filter(slug=SERVICE).first()
    if service is None:
        raise Http404
    body = json.dumps(documents(seeded_at=service.created_at, now=timezone.now())[name]).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    return response


def demo_source_url() -> str:
    return settings.TREMOR_DEMO_STATUS_URL.rstrip("/")
