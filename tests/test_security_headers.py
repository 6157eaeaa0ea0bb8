"""Production security headers: HSTS, secure cookies, CSP of our own assets only, frames denied but on embeds.

The production checks run a real gunicorn with production settings (TLS on, as
behind the proxy that sets X-Forwarded-Proto); the CSP is checked in a real
Chromium, which reports any violation on the console.
"""

import re
import shutil

import httpx
import pytest

from tests.conftest import database_url_of_test_db
from tests.support.servers import Gunicorn, app_env

PAGES = ["/", "/status/tesla/", "/status/tesla/report/", "/api/docs/"]


def _csp(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy") or response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("url", PAGES)
def test_every_page_allows_only_our_own_scripts_and_no_framing(client, tesla, url):
    response = client.get(url)
    assert response.status_code == 200
    csp = _csp(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no inline script, no eval, no CDN
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    html = response.content.decode()
    inline = re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", html)
    assert not inline, "an inline script would be blocked by the CSP"
    remote = re.search(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=\"(?:https?:)?//", html)
    assert not remote, "assets must be served by us"


def test_api_answers_carry_the_same_headers(client, tesla):
    response = client.get("/api/v1/services/")
    assert response["X-Frame-Options"] == "DENY"
    assert _csp(response)["frame-ancestors"] == ["'none'"]


def test_embed_pages_may_be_framed_and_nothing_else_changes(client, tesla):
    response = client.get("/embed/status/tesla/")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    csp = _csp(response)
    assert csp["frame-ancestors"] == ["*"]
    assert csp["script-src"] == ["'self'"]


@pytest.fixture
def production_server(tesla, transactional_db, tmp_path):
    env = app_env(DATABASE_URL=database_url_of_test_db(), ALLOWED_HOSTS="127.0.0.1")
    env["TREMOR_HTTPS"] = "1"  # the production default
    server = Gunicorn(env, tmp_path / "gunicorn.log", workers=1).start()
    yield server
    server.stop()


def test_production_redirects_to_https_and_sends_hsts_and_secure_cookies(production_server):
    with httpx.Client(base_url=production_server.url, timeout=10) as http:
        plain = http.get("/status/tesla/report/")
        assert plain.status_code == 301 and plain.headers["location"].startswith("https://")

        secure = http.get("/status/tesla/report/", headers={"X-Forwarded-Proto": "https"})
        assert secure.status_code == 200
        hsts = secure.headers["Strict-Transport-Security"]
        assert "max-age=31536000" in hsts and "includeSubDomains" in hsts
        cookie = secure.headers["set-cookie"]
        assert cookie.startswith("csrftoken=") and "Secure" in cookie and "SameSite=Lax" in cookie
        assert secure.headers["Referrer-Policy"] == "same-origin"
        assert "frame-ancestors 'none'" in secure.headers["Content-Security-Policy"]


@pytest.fixture
def http_server(tesla, transactional_db, tmp_path):
    env = app_env(DATABASE_URL=database_url_of_test_db())
    server = Gunicorn(env, tmp_path / "gunicorn.log", workers=1).start()
    yield server
    server.stop()


@pytest.mark.skipif(not shutil.which("chromium"), reason="chromium not installed")
def test_pages_work_in_a_browser_under_the_csp(http_server):
    from playwright.sync_api import sync_playwright

    violations: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page()
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        for url in PAGES + ["/embed/status/tesla/"]:
            response = page.goto(http_server.url + url)
            assert response.status == 200, url
            page.wait_for_load_state("networkidle")
        # The docs rendered (their script ran): Swagger UI lists the operations.
        page.goto(http_server.url + "/api/docs/")
        page.wait_for_selector(".opblock", timeout=15000)
        browser.close()
    assert violations == []
