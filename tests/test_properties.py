"""Property-based tests (hypothesis) of every intake validator and of the detector.

Whatever the input: no exception escapes, and what is accepted satisfies the
invariants the rest of Tremor relies on.
"""

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from analytics.core.detection import detect_series
from reports.catalog import ServiceEntry
from reports.codes import CODE_RE, code_label, is_valid_code
from reports.locale import country_from_accept_language
from reports.regions import COUNTRY_NAMES, REGIONS, country_choices, is_country, region_for
from reports.validation import MAX_AGE, MAX_COMMENT, MAX_FUTURE, parse_observed_at, validate_report

NOW = datetime(2024, 3, 31, 1, 0, tzinfo=UTC)  # the Europe/Paris DST switch
SERVICE = ServiceEntry(id=1, slug="tesla", name="Tesla", active=True, features={"climate": 11, "app-login": 12})
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
field_text = st.sampled_from(
    ["climate", "app-login", "other", "503", "none", "FR", "fr", " de ", "ZZ", "", "ERR_TIMEOUT"]
) | st.text(max_size=40)
report_dicts = st.fixed_dictionaries(
    {},
    optional={
        "feature": field_text | json_values,
        "code": field_text | st.integers() | json_values,
        "country": field_text | json_values,
        "comment": st.text(max_size=400) | json_values,
        "observed_at": st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat) | json_values,
        "service": field_text,
    },
)


@FAST
@given(raw=report_dicts | json_values, allow_observed_at=st.booleans())
@example(raw={"feature": "climate", "code": 503, "country": "fr"}, allow_observed_at=False)
def test_validate_report_never_raises_and_accepts_only_clean_reports(raw, allow_observed_at):
    item, errors = validate_report(raw, now=NOW, service=SERVICE, allow_observed_at=allow_observed_at)
    assert (item is None) == bool(errors)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in errors.items())
    if item is None:
        return
    assert item.feature_slug in SERVICE.features or item.feature_slug == "other"
    assert CODE_RE.fullmatch(item.code)
    assert is_country(item.country) and item.region == region_for(item.country) and item.region in REGIONS
    assert len(item.comment) <= MAX_COMMENT and "\x00" not in item.comment
    item.comment.encode("utf-8")  # storable
    if item.observed_at is not None:
        assert allow_observed_at
        assert NOW - MAX_AGE <= item.observed_at <= NOW + MAX_FUTURE


@FAST
@given(value=st.text(max_size=60) | json_values | st.datetimes(timezones=st.none() | st.just(UTC)).map(str))
def test_parse_observed_at_never_raises_and_bounds_what_it_accepts(value):
    errors: dict = {}
    parsed = parse_observed_at(value, now=NOW, errors=errors)
    if not errors:
        assert parsed is not None and parsed.tzinfo is not None
        assert NOW - MAX_AGE <= parsed <= NOW + MAX_FUTURE


@FAST
@given(offset=st.timedeltas(min_value=-timedelta(days=9), max_value=timedelta(days=1)))
def test_observed_at_is_accepted_exactly_within_the_bulk_limits(offset):
    errors: dict = {}
    parse_observed_at((NOW + offset).isoformat(), now=NOW, errors=errors)
    assert (not errors) == (-MAX_AGE <= offset <= MAX_FUTURE)


@FAST
@given(code=st.text(max_size=40))
@example(code="a" * 32)
@example(code="a" * 33)
@example(code="-503")
@example(code="503\n")
@example(code="²")
def test_codes_are_valid_exactly_when_they_match_the_documented_shape(code):
    valid = is_valid_code(code)
    expected = 1 <= len(code) <= 32 and code[0].isascii() and code[0].isalnum()
    expected = expected and all(c.isascii() and (c.isalnum() or c in "._-") for c in code)
    assert valid == expected
    assert isinstance(code_label(code), str)


@FAST
@given(
    header=st.text(max_size=80)
    | st.lists(st.sampled_from(["fr-CH", "de", "en-US;q=0.8", "xx-ZZ", "*", ",", ";q=x"]), max_size=6).map(",".join)
)
@example(header="fr-CH,fr;q=0.9")
def test_accept_language_gives_a_country_or_nothing(header):
    country = country_from_accept_language(header)
    assert country is None or is_country(country)


@given(code=st.sampled_from(sorted(COUNTRY_NAMES)))
def test_every_country_has_exactly_one_region(code):
    assert region_for(code) in REGIONS
    assert code in dict(country_choices())


@FAST
@given(code=st.text(max_size=4))
def test_is_country_accepts_only_iso_codes(code):
    assert is_country(code) == (code in COUNTRY_NAMES)
    if is_country(code):
        assert len(code) == 2 and code.isupper()


counts = st.lists(
    st.one_of(st.integers(0, 5), st.integers(0, 10_000), st.floats(0, 1e6, allow_nan=False, allow_infinity=False)),
    min_size=0,
    max_size=600,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=counts,
    step=st.sampled_from(["1min", "5min"]),
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
)
@example(values=[0] * 400, step="1min", start=datetime(2024, 3, 31))
@example(values=[0] * 300 + [10_000] * 30, step="1min", start=datetime(2024, 10, 27))
def test_detect_series_never_crashes_nor_returns_nan(values, step, start):
    index = pd.date_range(start, periods=len(values), freq=step, tz="UTC")
    out = detect_series(pd.Series(values, index=index, dtype=float))
    assert len(out) == len(values)
    assert list(out.columns) == ["count", "expected", "upper", "evidence", "level"]
    assert not out.isna().any().any()
    assert np.isfinite(out[["count", "expected", "upper", "evidence"]].to_numpy()).all()
    assert set(out["level"].unique()) <= {0, 1, 2}
