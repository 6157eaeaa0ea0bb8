URL = "/api/v1/reports/"


def test_a_client_is_throttled_after_ten_reports_a_minute(api, tesla):
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
