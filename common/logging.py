"""Structured logs: one JSON object a line (time, level, logger, message, request id, process).

The same configuration serves Django (settings.LOGGING), gunicorn (config/gunicorn.py) and
Celery's workers and beat (config/celery.py), so every process of Tremor logs alike and a log
shipper parses all of them with one rule. `TREMOR_LOG_FORMAT=text` gives plain lines instead.
"""

import logging
import logging.config
import os
import re
import uuid
from contextvars import ContextVar

# The request being served (web) or the request that queued the running task (workers).
request_id: ContextVar[str] = ContextVar("request_id", default="")
REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy may hand us: anything else is replaced, so a log line cannot be forged through it.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


def usable_request_id(value: str | None) -> str:
    return value if value and _VALID_ID.match(value) else new_request_id()


class ContextFilter(logging.Filter):
    """Adds the request id and the process's role (web, worker, beat...) to every record."""

    process_role = os.environ.get("TREMOR_PROCESS") or os.environ.get("SUPERVISOR_PROCESS_NAME", "")

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.role = self.process_role
        return True


JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(request_id)s %(role)s"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(role)s %(request_id)s] %(message)s"


def logging_config(*, level: str = "INFO", fmt: str = "json") -> dict:
    """A dictConfig: everything to stdout, through the context filter, as JSON lines (or text)."""
    if fmt not in {"json", "text"}:
        raise ValueError(f"TREMOR_LOG_FORMAT must be json or text, got {fmt!r}")
    formatter = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        }
        if fmt == "json"
        else {"format": TEXT_FORMAT}
    )
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stdout",
        "formatter": "default",
        "filters": ["context"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "common.logging.ContextFilter"}},
        "formatters": {"default": formatter},
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # gunicorn's own loggers do not propagate: give them the same handler.
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }


def configure(config: dict) -> None:
    """settings.LOGGING_CONFIG, and Celery's: the dictConfig, with warnings logged as JSON too."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)  # a warning printed raw would be the one line a shipper cannot parse


class RequestIdMiddleware:
    """Takes X-Request-ID from the proxy (or makes one), logs with it, passes it on and answers it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = usable_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = rid
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[REQUEST_ID_HEADER] = rid
        return response
