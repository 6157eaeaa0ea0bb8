"""The grouping rule (analytics.core.grouping) without the database."""

import pandas as pd
import pytest
from scipy import stats

from analytics.core.grouping import (
    EventView,
    Onset,
    attribute_provider,
    combined_scope,
    expected_by_chance,
    form,
    join_target,
    pooled_rate,
    provider_label,
    scan_chance,
)

T0 = pd.Timestamp("2024-07-19 04:10", tz="UTC")
RATE = pooled_rate(incidents=400, services=200)  # 600 onsets in two weeks: 0.03 a minute


def onset(n, minutes=0.0, regions=(), providers=(), codes=()):
    return Onset(n, n, T0 + pd.Timedelta(minutes=minutes), frozenset(regions), frozenset(codes), frozenset(providers))


def test_the_scan_chance_counts_every_window_of_the_day():
    one_window = float(stats.poisson.sf(4, 0.3))
    assert scan_chance(5, 0.3, 1) == pytest.approx(one_window, rel=1e-9)
    # A day of sliding ten-minute windows (144 disjoint ones, and every shift between them): a cluster
    # rare in one window is hundreds of times likelier somewhere in the day.
    assert 144 * one_window < scan_chance(5, 0.3, 144) < 2000 * one_window
    assert scan_chance(30, 0.3, 144) < 1e-30


def test_a_few_co_starting_incidents_are_chance_and_many_are_an_event():
    others = [onset(i, minutes=i * 0.5) for i in range(1, 4)]
    assert form(onset(0), others, rate=RATE) is None  # 4 within 2 minutes: ~1 in 100 days at this rate
    others = [onset(i, minutes=i * 0.5) for i in range(1, 12)]
    formed = form(onset(0), others, rate=RATE)
    assert len(formed.members) == 12 and formed.chance < 1e-9
    assert formed.expected == pytest.approx(RATE * 10)


def test_members_share_a_region_or_are_worldwide():
    eu = [onset(i, minutes=i, regions={"EU"}) for i in range(1, 9)]
    na = [onset(i, minutes=i, regions={"NA"}) for i in range(9, 12)]
    formed = form(onset(0), eu + na, rate=RATE)  # the new one is worldwide: the EU eight join it
    assert {m.incident_id for m in formed.members} == set(range(0, 9))
    assert form(onset(0, regions={"AS"}), eu + na, rate=RATE) is None


def test_two_incidents_three_minutes_apart_in_different_regions_are_no_event():
    assert form(onset(0, regions={"EU"}), [onset(1, minutes=3, regions={"NA"})], rate=RATE) is None
    assert form(onset(0), [onset(1, minutes=3)], rate=1e-9) is None  # even when chance is tiny: 3 at least


def test_a_late_service_joins_an_ongoing_event_near_its_onsets():
    event = EventView(7, T0, T0 + pd.Timedelta(minutes=8), frozenset({"EU"}))
    assert join_target(onset(1, minutes=17, regions={"EU"}), [event]) == 7
    assert join_target(onset(1, minutes=19, regions={"EU"}), [event]) is None
    assert join_target(onset(1, minutes=5, regions={"NA"}), [event]) is None
    assert join_target(onset(1, minutes=5), [event]) == 7


def test_the_provider_is_named_only_when_shared_far_more_than_chance():
    shares = {"aws:us-east-1": 0.25, "cloudflare": 0.3}
    members = [onset(i, providers={"aws:us-east-1"} if i < 9 else {"cloudflare"}) for i in range(12)]
    got = attribute_provider(members, shares=shares)
    assert (got.provider, got.members, got.services) == ("aws:us-east-1", 9, 12)
    # 4 of 12 on a provider a quarter of all services use: what chance gives.
    members = [onset(i, providers={"aws:us-east-1"} if i < 4 else set()) for i in range(12)]
    assert attribute_provider(members, shares=shares) is None


def test_the_scope_keeps_codes_two_members_agree_on():
    members = [onset(0, regions={"EU"}, codes={"503"}), onset(1, codes={"503", "500"}), onset(2, codes={"login"})]
    assert combined_scope(members) == {"regions": ["EU"], "codes": ["503"]}


def test_the_chance_sentence_uses_the_span_never_less_than_a_window():
    assert expected_by_chance(rate=0.01, span_minutes=6) == pytest.approx(0.1)
    assert expected_by_chance(rate=0.01, span_minutes=30) == pytest.approx(0.3)
    assert provider_label("aws:us-east-1") == "AWS us-east-1" and provider_label("cloudflare") == "Cloudflare"
