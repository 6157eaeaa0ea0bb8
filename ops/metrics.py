"""`/metrics`: Prometheus text format, for the scraper of the team that runs Tremor.

Counters and latencies come from common.metrics (added up across gunicorn workers when
PROMETHEUS_MULTIPROC_DIR is set); the state below is read from the database and Redis at each
scrape: a few indexed counts, so any web process answers the same.
"""

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from analytics.models import BucketingState, Incident, Level, ServiceStatus
from common import heartbeat
from reports import intake_log
from webhooks.models import Delivery

from .checks import redis_client

# Celery's queues in the broker (kombu keeps a list per queue under its name).
QUEUES = ("celery", "webhooks")


def _gauge(name: str, doc: str, value: float | None, labels: dict[str, str] | None = None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=list(labels or {}))
    if value is not None:
        family.add_metric(list((labels or {}).values()), value)
    return family


class StateCollector(Collector):
    """Stored state, read when scraped; a store that does not answer shows as `tremor_up{store} 0`."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("tremor_up", "Whether a store answered this scrape.", labels=["store"])
        try:
            yield from self._database()
            up.add_metric(["database"], 1)
        except Exception:
            up.add_metric(["database"], 0)
        try:
            yield from self._redis()
            up.add_metric(["redis"], 1)
        except Exception:
            up.add_metric(["redis"], 0)
        yield up
        yield _gauge("tremor_scrape_timestamp_seconds", "When this scrape was answered.", time.time())

    def _database(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        state = BucketingState.objects.filter(id=1).first()
        lag = (now - state.bucketed_until).total_seconds() if state and state.bucketed_until else None
        yield _gauge("tremor_bucketing_lag_seconds", "Age of the newest minute fully bucketed.", lag)
        evaluated = ServiceStatus.objects.aggregate(last=Max("evaluated_at"))["last"]
        lag = (now - evaluated).total_seconds() if evaluated else None
        yield _gauge("tremor_detection_lag_seconds", "Age of the newest minute the detector evaluated.", lag)
        ongoing = dict(
            Incident.objects.filter(status=Incident.Status.ONGOING)
            .values("level").annotate(n=Count("id")).values_list("level", "n")
        )  # fmt: skip
        family = GaugeMetricFamily("tremor_open_incidents", "Ongoing incidents, by level.", labels=["level"])
        for level in (Level.POSSIBLE, Level.PROBLEMS):
            family.add_metric([level.label], ongoing.get(level, 0))
        yield family
        pending = Delivery.objects.filter(status=Delivery.Status.PENDING).count()
        yield _gauge("tremor_webhook_deliveries_pending", "Webhook deliveries waiting to be sent or retried.", pending)

    def _redis(self) -> Iterator[GaugeMetricFamily]:
        client = redis_client(settings.REDIS_URL)
        family = GaugeMetricFamily("tremor_queue_depth", "Celery tasks waiting in the broker.", labels=["queue"])
        for queue in QUEUES:
            family.add_metric([queue], client.llen(queue))
        yield family
        tick = heartbeat.last("tick")
        yield _gauge(
            "tremor_tick_batch_duration_seconds", "Duration of the last detection batch.", tick and tick["seconds"]
        )
        yield _gauge("tremor_tick_last_timestamp_seconds", "When the last detection batch ended.", tick and tick["at"])
        lag = intake_log.lag()
        yield _gauge("tremor_intake_log_unflushed", "Reports acknowledged from the intake log, not stored yet.",
                     lag["unflushed"])  # fmt: skip
        yield _gauge("tremor_intake_log_lag_seconds", "Age of the oldest report waiting in the intake log.",
                     lag["oldest_seconds"])  # fmt: skip
        worker = heartbeat.last("worker")
        yield _gauge(
            "tremor_worker_last_task_timestamp_seconds", "When a Celery worker last finished a task.",
            worker and worker["at"],
        )  # fmt: skip


def exposition() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_state_registry())


def _state_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StateCollector())
    return registry


def scrape_allowed(*, address: str, authorization: str) -> bool:
    """A bearer token (TREMOR_METRICS_TOKEN) or an address in TREMOR_METRICS_ALLOW."""
    token = settings.TREMOR_METRICS_TOKEN
    if token and hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in settings.TREMOR_METRICS_ALLOW)


__all__ = ["CONTENT_TYPE_LATEST", "exposition", "scrape_allowed"]
