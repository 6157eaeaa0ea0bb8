"""The journalists' pages in a real browser (Debian's chromium through Playwright) on a live server.

Every test fails on a console error, an uncaught page error, or any request to a host other
than the loopback live server: the pages must work offline.
"""

import contextlib
import csv
import http.server
import io
import os
import re
import threading
from datetime import UTC, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect, sync_playwright

from analytics.models import Level
from reports.models import Report
from reports.services import service_create
from tests.conftest import TESLA_FEATURES
from tests.test_journalist_pages import add_reports, open_incident, settle

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

# One browser pass per `./tremor test`: the pages are the same on both databases, whose
# differences tests/test_journalist_pages.py covers in both passes.
_BOTH = "sqlite" in os.environ.get("TREMOR_TEST_DBS", "sqlite postgresql")
# No skip when chromium is missing: ./tremor test installs it, and a missing browser must fail.
pytestmark = pytest.mark.skipif(
    os.environ.get("TREMOR_TEST_DB") == "postgresql" and _BOTH, reason="runs in the SQLite pass"
)


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop running in this thread while it is open; Django's
    # ORM (the tests' own queries, the flush between tests) refuses to run beside one unless told
    # it may. Module scope, so the loop and the permission end with this file.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield chromium
            chromium.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def page(browser, live_server):
    # A viewer in Paris: local times on the incident page must differ from UTC.
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="Europe/Paris", accept_downloads=True
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    problems: list[str] = []
    outside: list[str] = []

    def guard(route):
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    context.route("**/*", guard)
    tab = context.new_page()
    tab.allowed_errors = []  # patterns a test expects (e.g. a refused frame)
    tab.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    yield tab
    context.close()
    assert outside == [], f"requests left the machine: {outside}"
    problems = [p for p in problems if not any(re.search(pattern, p) for pattern in tab.allowed_errors)]
    assert problems == [], problems


@pytest.fixture
def outage(transactional_db, settings):
    settings.TREMOR_PAGE_REFRESH_SECONDS = 2
    tesla = service_create(slug="tesla", name="Tesla", homepage_url="https://www.tesla.com", features=TESLA_FEATURES)
    for hours in range(1, 24 * 7, 3):  # a quiet week: a few reports every three hours, all over the world
        add_reports(tesla, 2, ago=timedelta(hours=hours), country="US", code="none", feature="app-login")
        add_reports(tesla, 1, ago=timedelta(hours=hours, minutes=20), country="JP", code="500", feature="climate")
    for minutes, n in ((150, 10), (135, 40), (120, 60), (105, 35), (90, 20)):  # the outage, in Europe
        add_reports(tesla, n, ago=timedelta(minutes=minutes), comment="Sentinel mode says 503 <b>again</b>")
        add_reports(tesla, n // 2, ago=timedelta(minutes=minutes + 3), country="DE", feature="remote-unlock")
    settle(tesla, days=8)
    service_create(slug="zebra", name="Zebra Mail")
    return open_incident(tesla, started_ago=timedelta(minutes=155), level=Level.PROBLEMS)


@contextlib.contextmanager
def serve_html(html: str):
    """A throwaway loopback web server answering every GET with `html` (another origin than the live server)."""
    body = html.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/article.html"
    finally:
        server.shutdown()
        server.server_close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def wait_drawn(page: Page, chart_id: str, times: int = 1) -> None:
    page.wait_for_function(
        "([id, n]) => Number(document.getElementById(id)?.dataset.drawn || 0) >= n", arg=[chart_id, times]
    )


def test_the_service_page_draws_every_chart_the_map_and_the_summary(page, live_server, outage):
    page.goto(f"{live_server.url}/status/tesla/")
    for chart in ("chart-timeline", "chart-map", "chart-region", "chart-code", "chart-feature"):
        wait_drawn(page, chart)
    expect(page.locator("#summary")).to_contain_text("User reports indicate problems at Tesla since")
    expect(page.locator("#summary")).to_contain_text("mostly in Europe: 503 errors on sentinel mode and remote unlock")
    # Real SVG traces and axis titles, drawn by plotly.js from /static.
    assert page.locator("#chart-timeline .scatterlayer .trace").count() >= 1
    assert page.locator("#chart-timeline .scatterlayer .trace path.js-line").count() >= 1
    expect(page.locator("#chart-timeline .xtitle")).to_have_text("Time (UTC)")
    expect(page.locator("#chart-timeline .ytitle")).to_have_text("Reports per 15 minutes")
    # The incident is shaded and labelled on the timeline.
    assert page.locator("#chart-timeline .shapelayer path").count() >= 1
    expect(page.locator("#chart-timeline .annotation-text")).to_have_text("Ongoing incident")
    # The world map: countries from the local topojson, the reporting ones filled.
    assert page.locator("#chart-map .choroplethlocation").count() == 4  # FR, DE, US, JP
    assert page.locator("#chart-map path.countries, #chart-map .countries path").count() >= 1
    expect(page.locator("#chart-region .ytick").first).to_be_visible()
    expect(page.locator("#chart-feature")).to_contain_text("Sentinel mode")
    # Text alternatives and escaped comments.
    expect(page.locator("#chart-timeline-alt")).to_contain_text("reports in this period")
    expect(page.locator("#comments")).to_contain_text("Sentinel mode says 503 <b>again</b>")
    shot(page, "service-24h")


def test_the_range_switch_and_the_minute_refresh_redraw_without_a_reload(page, live_server, outage):
    page.goto(f"{live_server.url}/status/tesla/")
    wait_drawn(page, "chart-timeline")
    page.evaluate("window.__same_page = true")
    page.get_by_role("link", name="7 days").click()
    expect(page.locator("#chart-timeline .ytitle")).to_have_text("Reports per hour")
    expect(page).to_have_url(re.compile(r"\?range=7d$"))
    assert page.locator("#chart-timeline-box a.csv").get_attribute("href").endswith("timeline.csv?range=7d")
    shot(page, "service-7d")
    page.get_by_role("link", name="30 days").click()
    expect(page.locator("#chart-timeline-box a.csv")).to_have_attribute("href", re.compile(r"range=30d$"))
    # New reports arrive; the page picks them up on its own (refresh set to 2 s here, 60 s live).
    drawn = int(page.locator("#chart-timeline").get_attribute("data-drawn"))
    add_reports(outage.service, 7, ago=timedelta(seconds=5))
    expect(page.locator("#count-hour")).to_have_text("7 reports in the last hour", timeout=10_000)
    wait_drawn(page, "chart-timeline", drawn + 1)
    assert page.evaluate("window.__same_page") is True


def test_the_timeline_downloads_as_csv(page, live_server, outage):
    page.goto(f"{live_server.url}/status/tesla/")
    wait_drawn(page, "chart-timeline")
    with page.expect_download() as info:
        page.locator("#chart-timeline-box a.csv").click()
    download = info.value
    assert download.suggested_filename == "tremor-tesla-timeline-24h.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text())))
    # PNG comes from plotly's own toolbar.
    page.hover("#chart-timeline")
    with page.expect_download() as png:
        page.locator("#chart-timeline .modebar-btn[data-title='Download plot as a PNG']").click()
    assert png.value.suggested_filename == "tremor-timeline.png"
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert rows[0] == ["bucket_start_utc", "reports", "expected", "upper"]
    assert (
        sum(int(r[1]) for r in rows[1:])
        == Report.objects.filter(observed_at__gte=timezone.now() - timedelta(hours=24)).count()
    )


def test_the_language_switch_translates_the_page_the_sentence_and_the_axes(page, live_server, outage):
    page.goto(f"{live_server.url}/status/tesla/")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    wait_drawn(page, "chart-timeline")
    expect(page.locator("#summary")).to_contain_text(
        "Les signalements des utilisateurs indiquent des problèmes chez Tesla"
    )
    expect(page.locator("#chart-timeline .xtitle")).to_have_text("Heure (UTC)")
    expect(page.get_by_role("link", name="7 jours")).to_be_visible()
    shot(page, "service-fr")
    page.get_by_role("button", name="Deutsch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    wait_drawn(page, "chart-map")
    expect(page.locator("#summary")).to_contain_text("Nutzermeldungen deuten seit")
    expect(page.locator("#chart-timeline .ytitle")).to_have_text("Meldungen pro 15 Minuten")
    shot(page, "service-de")


def test_a_report_sent_through_the_form_is_counted(page, live_server, outage):
    before = Report.objects.filter(service=outage.service).count()
    page.goto(f"{live_server.url}/status/tesla/")
    page.get_by_role("link", name="I have a problem with Tesla").click()
    page.locator("label.feature-button", has_text="Sentinel mode").click()
    page.select_option("#id_code", "503")
    page.select_option("#id_country", "FR")
    page.fill("#id_comment", "Sentinel mode fails since this morning")
    shot(page, "report-form")
    page.get_by_role("button", name="Send report").click()
    expect(page.locator("h1")).to_have_text("Thank you")
    expect(page.locator("main")).to_contain_text("Your report was counted.")
    shot(page, "report-thanks")
    report = Report.objects.filter(service=outage.service).order_by("-id").first()
    assert Report.objects.filter(service=outage.service).count() == before + 1
    assert (report.feature.slug, report.code, report.country, report.source) == ("sentinel-mode", "503", "FR", "web")


def test_the_incident_page_shows_local_times_and_copies_its_embed_code(page, live_server, outage):
    page.goto(f"{live_server.url}/incidents/{outage.id}/")
    wait_drawn(page, "chart-incident")
    expect(page.locator("#chart-incident .xtitle")).to_have_text("Time (UTC)")
    assert page.locator("#chart-incident .shapelayer path").count() >= 1
    # Start in UTC on the page, and the same instant in the viewer's zone (Paris: UTC+1 in winter, +2 in summer).
    start_utc = outage.started_at.astimezone(UTC)
    expect(page.locator("time[data-local=local-start]")).to_contain_text(start_utc.strftime("%H:%M"))
    local = start_utc.astimezone(ZoneInfo("Europe/Paris"))
    expect(page.locator("#local-start")).to_contain_text(local.strftime("%-I:%M"))
    assert local.strftime("%H:%M") != start_utc.strftime("%H:%M")
    expect(page.locator(".scope")).to_contain_text("96.5 %")
    page.get_by_role("button", name="Copy embed code").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert (
        copied == f'<iframe src="{live_server.url}/embed/incidents/{outage.id}/" width="100%" height="460" '
        'style="border:0" title="Tesla — Tremor"></iframe>'
    )
    shot(page, "incident")


def test_embeds_draw_inside_an_iframe_and_other_pages_refuse_to_be_framed(page, live_server, outage):
    page.goto(f"{live_server.url}/embed/incidents/{outage.id}/")
    wait_drawn(page, "chart-incident")
    shot(page, "embed-incident")
    page.goto(f"{live_server.url}/embed/status/tesla/")
    wait_drawn(page, "chart-timeline")
    shot(page, "embed-status")
    # A news article on another origin (its own loopback server) frames the embed and, for
    # contrast, the full page.
    here = live_server.url
    article = (
        f'<!doctype html><title>Article</title><h1>Article</h1><iframe id="ok" src="{here}/embed/status/tesla/" '
        f'width="900" height="460"></iframe>'
        f'<iframe id="denied" src="{here}/status/tesla/" width="900" height="200"></iframe>'
    )
    # The full page refuses (X-Frame-Options / CSP frame-ancestors); the browser says so on the console.
    page.allowed_errors.append(r"Framing '[^']*' violates .*frame-ancestors 'none'|Refused to display .* in a frame")
    with serve_html(article) as article_url:
        page.goto(article_url)
        frame = page.frame_locator("#ok")
        expect(frame.locator("#chart-timeline .scatterlayer .trace").first).to_be_attached(timeout=15_000)
        expect(frame.locator("#summary")).to_contain_text("User reports indicate problems at Tesla")
        page.wait_for_timeout(500)
        denied = page.frame(url=f"{here}/status/tesla/")
        assert denied is None or denied.locator("#summary").count() == 0
        shot(page, "embed-in-article")


def test_home_shows_status_badges_sparklines_and_filters_by_name(page, live_server, outage):
    page.goto(f"{live_server.url}/")
    rows = page.locator("ul.services > li")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Tesla")  # problems first
    expect(rows.first.locator(".badge")).to_have_text("problems")
    expect(rows.nth(1).locator(".badge")).to_have_text("normal")
    assert rows.first.locator("svg.sparkline polyline").get_attribute("points").count(",") in (24, 25)
    shot(page, "home")
    page.fill("#service-search", "zeb")
    expect(rows.first).to_be_hidden()
    expect(rows.nth(1)).to_be_visible()
