"""Property tests (hypothesis) of the report and bulk APIs over HTTP: any JSON, any nesting, any size.

Whatever the body: never a 5xx, a 4xx names what is wrong, and nothing is
stored unless the answer says so (an invalid body stores nothing at all).
"""

import json

from django.core.cache import cache
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reports.models import Report

URL = "/api/v1/reports/"
BULK = "/api/v1/reports/bulk/"
GOOD = {"service": "tesla", "feature": "climate", "code": "503", "country": "FR"}
FIELDS = ["service", "feature", "code", "country", "comment", "observed_at"]
PROPS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50)
    | st.text(alphabet=st.characters(codec="utf-8"), min_size=250, max_size=400)
    | st.sampled_from(["tesla", "climate", "other", "503", "none", "FR", " ", "\u00a0", "2030-01-01T00:00:00Z"])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
# Every field may be missing, valid, or any JSON value; unknown keys too.
reports = st.fixed_dictionaries(
    {},
    optional={
        **{name: values | st.just(GOOD.get(name, "a comment")) for name in FIELDS},
        "extra": values,
    },
).map(lambda fields: {**{k: v for k, v in GOOD.items() if k not in fields and len(fields) % 2}, **fields})


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _post(client, path, raw: bytes):
    return client.generic("POST", path, raw, content_type="application/json")


def _check(response, *, before: int, may_store: int):
    stored = Report.objects.count() - before
    assert response.status_code < 500, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    if 400 <= response.status_code < 500:
        assert stored == 0
        assert body  # names the field, the item or the reason
    else:
        assert response.status_code in (200, 201)
        assert 0 <= stored <= may_store
    return body, stored


@PROPS
@given(body=reports | values)
@example(body={**GOOD, "service": " "})
@example(body={**GOOD, "country": "\u00a0"})
@example(body={**GOOD, "comment": json.loads(_nested(600))})
def test_the_report_api_never_fails_and_stores_only_what_it_accepts(api, tesla, body):
    cache.clear()  # throttle and dedupe start fresh: every valid body is stored
    before = Report.objects.count()
    response = _post(api, URL, json.dumps(body).encode())
    answer, stored = _check(response, before=before, may_store=1)
    if response.status_code == 201:
        assert stored == 1 and answer["counted"] is True
        report = Report.objects.latest("id")
        assert report.service.slug == body["service"].strip() and report.country == answer["country"]
    else:
        assert stored == 0


@PROPS
@given(items=st.lists(reports | values, max_size=6) | values)
@example(items=[GOOD, {**GOOD, "country": " "}])
@example(items=json.loads(_nested(900)))
def test_the_bulk_api_is_all_or_nothing_and_never_fails(partner, tesla, items):
    cache.clear()
    body = {"reports": items} if isinstance(items, list) else items
    before = Report.objects.count()
    response = _post(partner, BULK, json.dumps(body).encode())
    answer, stored = _check(response, before=before, may_store=len(items) if isinstance(items, list) else 0)
    if response.status_code == 201:
        assert stored == answer["created"] == len(items)
    elif response.status_code == 400 and "items" in answer:
        assert {i["index"] for i in answer["items"]} <= set(range(len(items)))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(depth=st.integers(min_value=1, max_value=5000), path=st.sampled_from([URL, BULK]))
def test_any_nesting_depth_is_answered_without_a_5xx(api, partner, tesla, depth, path):
    before = Report.objects.count()
    client = partner if path == BULK else api
    for raw in (_nested(depth), '{"reports": [' + _nested(depth) + "]}", '{"service": ' + _nested(depth) + "}"):
        response = _post(client, path, raw.encode())
        assert 400 <= response.status_code < 500, (depth, response.content)
    assert Report.objects.count() == before
