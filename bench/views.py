"""The references for single-report intake: parse the JSON body, then one ORM INSERT of the
same row (`bare_insert`), or one Redis call that appends it to a stream (`one_redis_call`).

No validation, dedupe, throttling or DRF: what is left is the floor of this
server (gunicorn, Django's middleware, a persistent PostgreSQL connection or
the Redis pool). Both are as durable as Tremor's intake: PostgreSQL commits
synchronously, and the bench Redis fsyncs every write (appendfsync always).
"""

import json
from functools import cache

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from reports import intake_log
from reports.models import Feature, Report


@cache
def _ids(slug: str, feature: str) -> tuple[int, int]:
    row = Feature.objects.filter(service__slug=slug, slug=feature).values_list("service_id", "id").get()
    return row[0], row[1]


@csrf_exempt
def bare_insert(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body)
    service_id, feature_id = _ids(data["service"], data["feature"])
    now = timezone.now()
    report = Report.objects.create(
        service_id=service_id,
        feature_id=feature_id,
        code=data["code"],
        country=data["country"],
        region="EU",
        observed_at=now,
        received_at=now,
        source=Report.Source.API,
        fingerprint="0" * 32,
    )
    return JsonResponse({"id": report.pk}, status=201)


@csrf_exempt
def one_redis_call(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body)
    entry = intake_log.client().xadd("bench:one-redis-call", {"r": json.dumps(data)}, maxlen=100_000)
    return JsonResponse({"entry": entry.decode()}, status=201)
