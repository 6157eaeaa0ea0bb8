"""Under /api/, every error is JSON: 404 for no route, 405 for a wrong method, 500 for a bug."""

import pytest
from django.test import Client

from public.api import services as read_api


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/incidents/null,null/",
        "/api/v1/services/%C3%A4/",
        "/api/v1/nothing/",
        "/api/v2/",
        "/api/v1/services/x/y/",
    ],
)
def test_a_404_under_the_api_is_json(api, db, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json" and response.json()["detail"]


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_405_under_the_api_is_json(api, tesla, method):
    response = getattr(api, method)("/api/v1/services/tesla/timeseries/")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json" and response.json()["detail"]


def test_a_500_under_the_api_is_json_without_a_traceback(db, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("a bug, with secrets in its message")

    monkeypatch.setattr(read_api, "services_with_counts", broken)
    response = Client(raise_request_exception=False).get("/api/v1/services/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Internal server error."}


def test_pages_keep_their_html_error_pages(client, db):
    response = client.get("/status/no-such-service/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
@pytest.mark.parametrize("accept,status", [("", 200), (" , ", 200), ("application/json", 200), ("image/png", 406)])
def test_an_empty_accept_header_means_anything(tesla, accept, status):
    # Schemathesis found `Accept:` with no value answered 406; a client that names nothing accepts JSON.
    response = Client().get("/api/v1/services/", HTTP_ACCEPT=accept)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
