import re


def test_the_openapi_schema_describes_every_endpoint(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/v1/reports/",
        "/api/v1/reports/bulk/",
        "/api/v1/services/",
        "/api/v1/services/{slug}/",
        "/api/v1/services/{slug}/timeseries/",
        "/api/v1/services/{slug}/breakdown/",
    ]:
        assert path in paths


def test_the_docs_load_their_assets_locally(client, db):
    html = client.get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    for src in sources:
        if src.startswith("/static/"):
            assert client.get(src).status_code == 200, src
