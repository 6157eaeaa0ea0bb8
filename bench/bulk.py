"""2. Bulk intake: reports/s through POST /api/v1/reports/bulk/ (1,000 per call) against COPY."""

from __future__ import annotations

import io
import json
import time

import psycopg
from django.utils import timezone

from reports.regions import region_for

from .intake import _settled_count
from .lib.context import Context, wrk
from .lib.results import Figure, figure

COUNTRIES = ["US", "FR", "DE", "GB", "BR", "JP", "KR", "IN", "ZA", "MX", "ES", "IT", "CA", "AU", "NG"]
CODES = ["503", "500", "502", "504", "none", "ERR_TIMEOUT", "401", "429"]
FEATURES = ["app-login", "remote-unlock", "climate", "location", "other"]


def batch() -> list[dict]:
    return [
        {
            "service": "bench-bulk",
            "feature": FEATURES[i % len(FEATURES)],
            "code": CODES[i % len(CODES)],
            "country": COUNTRIES[i % len(COUNTRIES)],
        }
        for i in range(1000)
    ]


def _copy_reference(ctx: Context, items: list[dict], repeats: int, *, table: str = "reports_report") -> float:
    """rows/s of PostgreSQL COPY of the same, already resolved rows, from Python.

    Into the report table itself by default: the same indexes and foreign keys
    as intake pays. `table` names a bare copy (no index, no constraint) for the
    ceiling of COPY alone.
    """
    from reports.models import Feature

    features = dict(Feature.objects.filter(service__slug="bench-bulk").values_list("slug", "id"))
    service_id = Feature.objects.filter(service__slug="bench-bulk").values_list("service_id", flat=True)[0]
    now = timezone.now().isoformat()
    lines = "".join(
        f"{service_id}\t{features[i['feature']]}\t{i['code']}\t{i['country']}\t{region_for(i['country'])}"
        f"\t{now}\t{now}\tapi\t\t\n"
        for i in items
    )
    columns = "service_id, feature_id, code, country, region, observed_at, received_at, source, comment, fingerprint"
    with psycopg.connect(ctx.stack.database_url) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            buffer = io.StringIO(lines * 50).getvalue()
            for _ in range(repeats // 50):
                copy.write(buffer)
        conn.commit()
        elapsed = time.perf_counter() - started
    return (repeats // 50) * 50 * len(items) / elapsed


def run(ctx: Context) -> list[Figure]:
    items = batch()
    body_path = ctx.workdir / "bulk-body.json"
    body_path.write_text(json.dumps({"reports": items}))
    token = ctx.partner_key
    repeats = 50 if ctx.smoke else 500  # batches of 1,000 rows
    reference = _copy_reference(ctx, items, repeats)
    with psycopg.connect(ctx.stack.database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_copy (LIKE reports_report INCLUDING DEFAULTS INCLUDING IDENTITY)")
    bare = _copy_reference(ctx, items, repeats, table="bench_copy")
    with psycopg.connect(ctx.stack.database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE bench_copy")
    wrk(ctx.web.url, "bulk.lua", [str(body_path), token], connections=4, seconds=ctx.seconds(4, 2))  # warm up
    before = _settled_count("bench-bulk")
    result = wrk(ctx.web.url, "bulk.lua", [str(body_path), token], connections=4, seconds=ctx.seconds(10, 2))
    stored = _settled_count("bench-bulk") - before
    created = result["statuses"].get(201, 0) * 1000
    rate = created / (result["duration_us"] / 1e6)
    other = sum(n for s, n in result["statuses"].items() if s != 201) + result["errors"]
    return [
        figure("bulk.reports_per_s", rate, "reports/s", reference=reference, target=">= 0.3x"),
        figure("bulk.reports_per_s_vs_copy_into_bare_table", rate, "reports/s", reference=bare),
        figure("bulk.call_p50", result["p50_us"] / 1000, "ms"),
        figure("bulk.call_p99", result["p99_us"] / 1000, "ms"),
        # Calls in flight when wrk stops are still stored (1,000 rows each, at most one per connection).
        figure(
            "bulk.rows_stored_vs_created",
            stored,
            "rows",
            reference=created,
            target="= created + in flight",
            passed=created > 0 and 0 <= stored - created <= 4000 and other == 0,
        ),
    ]
