"""In Chromium: a district administrator makes a briefing with the 生成简报 button, sees the
progress and the new briefing listed, opens it (key figures, charts, numbered sources) and
downloads its PDF, whose first page becomes a PNG image to look at."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

from tests import browser as browser_fixtures
from tests.browser import login_page
from tests.conftest import needs
from tests.screens import browser_world
from tests.screens.browser_world import ADMIN, ScreensServer

browser = browser_fixtures.browser
screens_server = browser_world.screens_server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_make_a_briefing_with_the_button(screens_server: ScreensServer, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                              accept_downloads=True)
    page = ctx.new_page()
    login_page(page, screens_server, *ADMIN)
    page.goto(f"{screens_server.url}/briefings")
    form = page.locator("[data-testid=make-briefing]")
    month = form.locator("select[name=month] option").first
    assert form.locator("select[name=month]").input_value() == month.get_attribute("value")
    month_text = month.inner_text()
    form.locator("select[name=lang]").select_option("zh_CN")
    button = page.locator("[data-testid=make-button]")
    assert button.inner_text() == "生成简报"
    button.click()
    # while the server works: the button is disabled and the progress line shows
    page.wait_for_selector("#making.htmx-request", timeout=5_000)
    assert button.is_disabled()
    page.wait_for_selector("[data-testid=made]", timeout=180_000)
    assert button.is_enabled() and not page.locator("#making").is_visible()
    made = page.locator("[data-testid=made]").inner_text()
    assert "简报已生成" in made and month_text in made
    new = page.locator("table[data-testid=briefings] tr.new")
    assert new.count() == 1 and "市北区" in new.inner_text() and "PDF" in new.inner_text()
    shot = screens_server.screenshots / "briefings-made.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")

    new.locator("a").first.click()
    page.wait_for_selector("[data-testid=coverage]")
    assert month_text in page.locator("h1").inner_text()
    assert "城市生长力指数" in page.locator("[data-testid=key-figures]").inner_text()
    images = page.locator("img.bchart")
    assert images.count() >= 2
    page.wait_for_function("() => Array.from(document.querySelectorAll('img.bchart'))"
                           ".every(i => i.complete && i.naturalWidth > 400)")
    sources = page.locator("[data-testid=sources] li")
    assert sources.count() >= 2 and "区统计局" in page.locator("[data-testid=sources]").inner_text()
    assert "_now" not in page.content()
    shot = screens_server.screenshots / "briefing-page.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")

    with page.expect_download() as dl:
        page.click("[data-testid=download-pdf]")
    pdf = screens_server.screenshots / "briefing.pdf"
    dl.value.save_as(str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    needs("pdftoppm", shutil.which("pdftoppm") is not None, "install poppler-utils")
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "2", str(pdf),
                    str(screens_server.screenshots / "briefing-pdf")], check=True, timeout=120)
    pages = sorted(screens_server.screenshots.glob("briefing-pdf*.png"))
    assert pages and all(p.stat().st_size > 20_000 for p in pages)
    print(f"PDF pages: {pages}")
    ctx.close()


def test_the_button_is_not_offered_without_the_permission(
        screens_server: ScreensServer, browser: Any) -> None:
    ctx = browser.new_context(locale="zh-CN")
    page = ctx.new_page()
    login_page(page, screens_server, "stats", "stats-demo-2026")  # a department officer
    page.goto(f"{screens_server.url}/briefings")
    assert page.locator("h1").inner_text() == "月度简报"
    assert page.locator("[data-testid=make-briefing]").count() == 0
    ctx.close()
