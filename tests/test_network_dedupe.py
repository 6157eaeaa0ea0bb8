"""A client counts by its network, not by its User-Agent or its address inside an IPv6 /64.

Per service and dedupe window a network (IPv4 address, IPv6 /64) counts at most
TREMOR_DEDUPE_PER_NETWORK reports, and the throttles key on the same network;
while Redis is down, a throttle in the process and a database check still hold.
"""

import random
import time

import pytest
from django.conf import settings
from django.test import override_settings

from reports.api.throttles import ReportFormThrottle, ReportSubmitThrottle, local_windows
from reports.fingerprint import network_of, reporter_fingerprint
from reports.models import Report
from tests.support.servers import once_per_suite_run

URL = "/api/v1/reports/"
BODY = {"service": "tesla", "feature": "climate", "code": "503", "country": "FR"}
FORM = {"feature": "climate", "code": "503", "country": "FR"}
FLOOD = 10_000
# Through the form: each post renders the form machinery and a redirect (~12 ms here, 4x an API call),
# so 3,000 posts: as many 64-bit random addresses and User-Agents, a minute of suite time less.
FORM_FLOOD = 3_000
PREFIX = "2001:db8:4:64"  # one /64
REDIS_DOWN = {
    "default": {
        "BACKEND": "config.redis_cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there: connection refused at once
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@pytest.fixture
def no_throttles(monkeypatch):
    # The flood must reach dedupe: the throttles would otherwise stop it after 10 (or 30) requests.
    rates = {"report_submit": "1000000/min", "report_form": "1000000/min"}
    monkeypatch.setattr(ReportSubmitThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(ReportFormThrottle, "THROTTLE_RATES", rates)


@pytest.fixture
def fresh_local_windows():
    local_windows.clear()
    yield
    local_windows.clear()


def _inside_the_64(rng: random.Random) -> str:
    return PREFIX + "".join(f":{rng.getrandbits(16):x}" for _ in range(4))


def _user_agent(rng: random.Random) -> str:
    return f"Mozilla/5.0 (X11; Linux) rnd/{rng.getrandbits(48):x}"


def test_network_of_is_the_address_for_ipv4_and_the_64_for_ipv6():
    assert network_of("198.51.100.7") == "198.51.100.7"
    assert network_of("2001:db8:4:64:1:2:3:4") == network_of("2001:db8:4:64:ffff::1") == "2001:db8:4:64::/64"
    assert network_of("2001:db8:4:65::1") != network_of("2001:db8:4:64::1")
    assert network_of("::ffff:198.51.100.7") == "198.51.100.7"
    assert network_of("fe80::1%eth0") == "fe80::/64"
    assert network_of("not an address") == "not an address"


def test_a_fingerprint_starts_with_its_network():
    a = reporter_fingerprint(address="2001:db8:4:64::1", user_agent="a")
    b = reporter_fingerprint(address="2001:db8:4:64::2", user_agent="b")
    assert a != b and a[:16] == b[:16] and len(a) == 32


def test_rotating_the_user_agent_counts_at_most_the_network_cap(api, tesla, no_throttles):
    cap = settings.TREMOR_DEDUPE_PER_NETWORK
    codes = [
        api.post(URL, BODY, format="json", HTTP_USER_AGENT=f"ua-{i}", REMOTE_ADDR="198.51.100.7").status_code
        for i in range(50)
    ]
    assert codes == [201] * cap + [200] * (50 - cap)
    assert Report.objects.count() == cap
    # Another network, and the same network on another service, are not affected.
    assert api.post(URL, BODY, format="json", REMOTE_ADDR="198.51.100.8").status_code == 201


def test_the_cap_is_per_service_and_window(api, tesla, no_throttles):
    from reports.services import service_create

    service_create(slug="other-app", name="Other app", features=["login"])
    other = {**BODY, "service": "other-app", "feature": "login"}
    with override_settings(TREMOR_DEDUPE_WINDOW_SECONDS=1):
        for i in range(10):
            api.post(URL, BODY, format="json", HTTP_USER_AGENT=f"ua-{i}", REMOTE_ADDR="198.51.100.9")
            api.post(URL, other, format="json", HTTP_USER_AGENT=f"ua-{i}", REMOTE_ADDR="198.51.100.9")
        time.sleep(1.1)
        assert (
            api.post(URL, BODY, format="json", HTTP_USER_AGENT="later", REMOTE_ADDR="198.51.100.9").status_code == 201
        )
    cap = settings.TREMOR_DEDUPE_PER_NETWORK
    assert Report.objects.filter(service__slug="tesla").count() == cap + 1
    assert Report.objects.filter(service__slug="other-app").count() == cap


@once_per_suite_run("10,000 requests whose outcome is decided in Redis")
def test_a_flood_from_one_64_with_random_user_agents_and_addresses_counts_a_handful(api, tesla, no_throttles):
    rng = random.Random(64)
    statuses: dict[int, int] = {}
    t0 = time.monotonic()
    for _ in range(FLOOD):
        response = api.post(URL, BODY, format="json", HTTP_USER_AGENT=_user_agent(rng), REMOTE_ADDR=_inside_the_64(rng))
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    print(f"{FLOOD} API reports from one /64 in {time.monotonic() - t0:.1f}s: {statuses}")
    cap = settings.TREMOR_DEDUPE_PER_NETWORK
    assert statuses == {201: cap, 200: FLOOD - cap}
    assert Report.objects.count() == cap


@once_per_suite_run("3,000 form posts whose outcome is decided in Redis")
def test_a_form_flood_from_one_64_counts_a_handful(client, tesla, no_throttles):
    rng = random.Random(46)
    counted = 0
    t0 = time.monotonic()
    for _ in range(FORM_FLOOD):
        response = client.post(
            "/status/tesla/report/", FORM, HTTP_USER_AGENT=_user_agent(rng), REMOTE_ADDR=_inside_the_64(rng)
        )
        assert response.status_code == 302
        counted += response["Location"].endswith("counted=1")
    print(f"{FORM_FLOOD} form reports from one /64 in {time.monotonic() - t0:.1f}s: {counted} counted")
    assert counted == Report.objects.count() == settings.TREMOR_DEDUPE_PER_NETWORK


def test_the_api_throttle_keys_on_the_64(api, tesla):
    rng = random.Random(1)
    codes = [
        api.post(
            URL, BODY, format="json", HTTP_USER_AGENT=_user_agent(rng), REMOTE_ADDR=_inside_the_64(rng)
        ).status_code
        for _ in range(12)
    ]
    assert 429 not in codes[:10] and codes[10:] == [429, 429]
    assert api.post(URL, BODY, format="json", REMOTE_ADDR="2001:db8:4:65::1").status_code == 201  # the next /64


def test_the_form_throttle_keys_on_the_64(client, tesla):
    rng = random.Random(2)
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["report_form"].split("/")[0])
    codes = [
        client.post("/status/tesla/report/", FORM, REMOTE_ADDR=_inside_the_64(rng)).status_code
        for _ in range(limit + 2)
    ]
    assert codes[:limit] == [302] * limit and codes[limit:] == [429, 429]


def test_with_redis_down_the_throttle_holds_in_the_process(api, tesla, fresh_local_windows):
    with override_settings(CACHES=REDIS_DOWN):
        codes = [
            api.post(URL, BODY, format="json", HTTP_USER_AGENT=f"ua-{i}", REMOTE_ADDR="198.51.100.20").status_code
            for i in range(12)
        ]
        other = api.post(URL, BODY, format="json", REMOTE_ADDR="198.51.100.21")
    assert 429 not in codes[:10] and codes[10:] == [429, 429]
    assert other.status_code == 201  # reports keep being accepted: only the flooding network waits


def test_with_redis_down_the_database_still_caps_a_network(api, tesla, no_throttles, fresh_local_windows):
    with override_settings(CACHES=REDIS_DOWN):
        codes = [
            api.post(URL, BODY, format="json", HTTP_USER_AGENT=f"ua-{i}", REMOTE_ADDR="198.51.100.22").status_code
            for i in range(20)
        ]
    cap = settings.TREMOR_DEDUPE_PER_NETWORK
    assert codes == [201] * cap + [200] * (20 - cap)
    assert Report.objects.count() == cap
