import copy
import logging
import os

from celery import Celery, signals

from common import heartbeat
from common.logging import configure, request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tremor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The request id of the web request that queued a task travels in the message's headers.
REQUEST_ID_HEADER = "request_id"


@signals.celeryd_init.connect  # before the worker's first warnings (e.g. running as root)
@signals.setup_logging.connect
def _logging(**kwargs) -> None:
    # A setup_logging receiver replaces Celery's own (plain text) set-up in workers and beat:
    # they log JSON lines through settings.LOGGING like the web.
    from django.conf import settings

    config = copy.deepcopy(settings.LOGGING)
    # The more verbose of LOG_LEVEL and the command's --loglevel (Celery's default is WARNING).
    wanted = kwargs.get("loglevel") or (kwargs.get("options") or {}).get("loglevel")
    if wanted:
        config["root"]["level"] = min(_level(config["root"]["level"]), _level(wanted))
    configure(config)


def _level(value: int | str) -> int:
    number = value if isinstance(value, int) else logging.getLevelName(str(value).upper())
    return number if isinstance(number, int) else logging.INFO


@signals.before_task_publish.connect
def _pass_request_id(headers: dict | None = None, **kwargs) -> None:
    rid = request_id.get()
    if rid and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, rid)


@signals.task_prerun.connect
def _adopt_request_id(task=None, **kwargs) -> None:
    rid = getattr(task.request, REQUEST_ID_HEADER, None) if task is not None else None
    request_id.set(rid or "")


@signals.task_postrun.connect
def _seen(**kwargs) -> None:
    # Readiness and /metrics tell when a worker last finished a task (common.heartbeat).
    heartbeat.stamp("worker")
