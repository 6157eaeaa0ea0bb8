URL = "/api/v1/reports/"


def test_a_client_is_throttled_after_ten_reports_a_minute(api, tesla, settings):
    settings.TREMOR_DEDUPE_PER_NETWORK = 100  # ten devices on one address all count: only the throttle limits
    statuses = []
    for i in range(12):
        response = api.post(
            URL,
            {"service": "tesla", "feature": "other", "code": "503", "country": "FR"},
            format="json",
            HTTP_USER_AGENT=f"ua-{i}",
            REMOTE_ADDR="192.0.2.9",
        )
        statuses.append(response.status_code)
    assert statuses[:10] == [201] * 10
    assert statuses[10:] == [429, 429]
    assert 0 < int(response["Retry-After"]) <= 60


def test_throttling_is_per_client(api, tesla):
    for i in range(10):
        api.post(
            URL,
            {"service": "tesla", "feature": "other", "code": "503", "country": "FR"},
            format="json",
            HTTP_USER_AGENT=f"ua-{i}",
            REMOTE_ADDR="192.0.2.9",
        )
    response = api.post(
        URL,
        {"service": "tesla", "feature": "other", "code": "503", "country": "FR"},
        format="json",
        REMOTE_ADDR="192.0.2.10",
    )
    assert response.status_code == 201


def _post(api, body, *, ua="ua", addr="192.0.2.9"):
    return api.post(URL, body, format="json", HTTP_USER_AGENT=ua, REMOTE_ADDR=addr)


REPORT = {"service": "tesla", "feature": "other", "code": "503", "country": "FR"}


def test_a_throttled_report_does_not_claim_its_reporter(api, tesla, settings):
    # Throttle and dedupe claim share one Redis script: a refused request must
    # not leave a claim behind, or that person's next (allowed) report would be
    # answered as a duplicate and lost.
    from django.core.cache import cache

    settings.TREMOR_DEDUPE_PER_NETWORK = 100  # one address, eleven devices: the network cap is tested elsewhere
    for i in range(10):
        assert _post(api, REPORT, ua=f"ua-{i}").status_code == 201
    assert _post(api, REPORT, ua="late").status_code == 429
    assert cache.delete("throttle_report_submit_192.0.2.9")  # the minute has passed, claims have not
    assert _post(api, REPORT, ua="late").status_code == 201
    assert _post(api, REPORT, ua="late").status_code == 200  # now it is a duplicate


def test_malformed_and_invalid_requests_count_against_the_limit(api, tesla):
    for i in range(5):
        bad = api.post(
            URL, "{not json", content_type="application/json", HTTP_USER_AGENT=f"b{i}", REMOTE_ADDR="192.0.2.9"
        )
        assert bad.status_code == 400
        assert _post(api, {**REPORT, "country": "XX"}, ua=f"i{i}").status_code == 400
    response = _post(api, REPORT, ua="fresh")
    assert response.status_code == 429 and "Retry-After" in response
