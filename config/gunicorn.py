"""gunicorn's settings for every way Tremor runs (Procfile, image): `gunicorn config.wsgi -c config/gunicorn.py`.

Read from the environment: TREMOR_BIND (127.0.0.1:8000), WEB_CONCURRENCY (4 workers), LOG_LEVEL and
TREMOR_LOG_FORMAT (JSON lines, like the rest of Tremor).
"""

import os

from common.logging import logging_config

bind = os.environ.get("TREMOR_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
timeout = 30
graceful_timeout = 10
# gunicorn 27's control socket sits in $HOME by default: one path for every gunicorn of the machine.
control_socket_disable = True
accesslog = "-"
# The access line's message; the JSON around it carries time, level and logger.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" request_id=%({x-request-id}o)s'
logconfig_dict = logging_config(
    level=os.environ.get("LOG_LEVEL", "INFO"), fmt=os.environ.get("TREMOR_LOG_FORMAT", "json")
)


def child_exit(server, worker) -> None:
    # Metrics of a gone worker stay counted; its live gauges must not (prometheus_client multiprocess).
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
