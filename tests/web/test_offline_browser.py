"""In Chromium: the API documentation and the pages load nothing from another host — the
district's intranet sees them whole. The one request the vendored ReDoc would make (its sidebar
logo from cdn.redoc.ly) is refused by the page's Content-Security-Policy before it leaves."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser import DemoServer, login_page

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_api_docs_and_pages_load_from_this_server_only(demo_server: DemoServer,
                                                       browser: Any) -> None:
    own = urlsplit(demo_server.url).netloc
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    failed: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if urlsplit(r.url).scheme in (
        "http", "https") and urlsplit(r.url).netloc != own else None)
    page.on("requestfailed", lambda r: failed.append(r.url))

    page.goto(demo_server.url + "/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    # Swagger UI draws the sections in view only; the whole document is in its state
    assert page.evaluate("() => window.ui.specSelectors.paths().size") > 100
    assert page.evaluate("() => window.ui.specSelectors.taggedOperations().size") >= 10
    page.screenshot(path=str(demo_server.screenshots / "swagger-ui.png"))

    page.goto(demo_server.url + "/redoc")
    page.wait_for_selector("[role=search], .menu-content", timeout=30_000)
    page.wait_for_timeout(500)
    assert "citygrowth" in page.locator("h1").first.inner_text()
    page.screenshot(path=str(demo_server.screenshots / "redoc.png"))

    login_page(page, demo_server, "admin", "admin-demo-2026")
    for path in ("/", "/screen", "/explore", "/data/health", "/admin/calendar"):
        page.goto(demo_server.url + path)
        page.wait_for_load_state("networkidle")

    assert set(outside) <= {REDOC_LOGO}, outside
    assert set(outside) <= set(failed)  # refused by the Content-Security-Policy
