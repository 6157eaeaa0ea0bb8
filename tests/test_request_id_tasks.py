"""The request id of the web request that queued a task is in the worker's log lines about it."""

import json
import time

from analytics.tasks import bucket_reports
from common.logging import request_id


def test_a_task_queued_during_a_request_logs_with_its_request_id(celery_worker_process, tmp_path):
    token = request_id.set("req-42-abc")
    try:
        bucket_reports.delay()
    finally:
        request_id.reset(token)
    log = tmp_path / "worker.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        done = [e for e in lines if "bucket_reports" in e["message"] and "succeeded" in e["message"]]
        if done:
            assert done[0]["request_id"] == "req-42-abc"
            return
        time.sleep(0.2)
    raise AssertionError(log.read_text()[-3000:])
