"""In Chromium at 1920×1080, on the demo district's index (22 streets): an analyst chooses
geometric means over min-max scores, sees the warning that zeros decide the ranks (17 streets
tied at 0), applies a remedy with one click and sees every street ranked."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from citygrowth.settings import Settings
from tests import browser as browser_fixtures
from tests.browser import DEMO_PLUGINS, DemoServer, load_demo, login_page
from tests.serve import serve_app

browser = browser_fixtures.browser
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ANALYST = ("analyst", "analyst-demo-2026")


@pytest.fixture(scope="module")
def indexed_demo(tmp_path_factory: pytest.TempPathFactory,
                 sqlite_template: Path) -> Iterator[DemoServer]:
    """The demo district with its illustrative observations and the index computed."""
    root = tmp_path_factory.mktemp("workbench-demo")
    shutil.copy(sqlite_template, root / "citygrowth.db")
    settings = Settings(data_dir=root / "var", database_url=f"sqlite:///{root / 'citygrowth.db'}",
                        env="test", secret_key="workbench-browser-secret",
                        scheduler_enabled=False, log_level="WARNING")
    load_demo(settings, (*DEMO_PLUGINS, "citygrowth.ingest.plugin",
                         "citygrowth.index.plugin"))
    shots = root / "screenshots"
    shots.mkdir()
    with serve_app(settings) as url:
        yield DemoServer(url, settings, shots)


def _preview(page: Any) -> dict[str, Any]:
    page.evaluate("() => { window.cgWorkbench.last = null; }")
    page.click("[data-testid=wb-preview]")
    page.wait_for_function("() => window.cgWorkbench.last")
    return dict(page.evaluate("() => window.cgWorkbench.last"))


def _ranks(page: Any) -> list[int]:
    return [int(t) for t in page.locator("#wb-table tbody tr td:nth-child(5)").all_inner_texts()]


def test_geometric_over_minmax_warns_and_one_click_remedies_it(
        indexed_demo: DemoServer, browser: Any) -> None:
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = ctx.new_page()
    login_page(page, indexed_demo, *ANALYST)
    page.goto(f"{indexed_demo.url}/workbench")
    page.wait_for_function("() => window.cgWorkbench && window.cgWorkbench.last")
    warning = page.locator("[data-testid=wb-warning]")
    assert warning.is_hidden()  # the published index: arithmetic means, no warning
    options = page.locator("#wb-aggregation option").all_inner_texts()
    assert "几何平均" in options and "geometric" not in options  # names, not codes
    assert page.locator("#wb-normalisation").input_value() == "minmax"

    page.select_option("#wb-aggregation", "geometric")
    d = _preview(page)
    assert warning.is_visible()
    text = warning.inner_text()
    assert "22 个区域中有 17 个" in text and "并列第 6 名" in text
    assert page.locator("#wb-table tbody tr.wb-tied").count() == 17
    assert _ranks(page).count(6) == 17
    assert len(d["warnings"][0]["remedies"]) == 2
    page.wait_for_timeout(1200)  # the chart's animation
    page.screenshot(path=str(indexed_demo.screenshots / "workbench-zeros-warning.png"))

    page.click("[data-testid=wb-warning] button[data-remedy=rescale]")
    page.wait_for_function("() => window.cgWorkbench.last && "
                           "window.cgWorkbench.last.warnings.length === 0")
    assert warning.is_hidden()
    assert page.locator("#wb-range").input_value() == "1"  # the remedy shows in the form
    assert sorted(_ranks(page)) == list(range(1, 23))  # every street ranked on its own
    assert page.locator("#wb-table tbody tr.wb-tied").count() == 0
    page.wait_for_timeout(1200)
    page.screenshot(path=str(indexed_demo.screenshots / "workbench-remedied.png"),
                    full_page=True)

    # the other remedy, from the same warning: add a constant before the mean
    page.select_option("#wb-range", "0")
    _preview(page)
    page.click("[data-testid=wb-warning] button[data-remedy=shift]")
    page.wait_for_function("() => window.cgWorkbench.last && "
                           "window.cgWorkbench.last.warnings.length === 0")
    assert page.locator("#wb-zeros").input_value() == "shift"
    assert sorted(_ranks(page)) == list(range(1, 23))

    # the simulations of the published run: the artefact is named, and a remedy removes it
    page.wait_for_function("() => window.cgWorkbench.analysis")
    note = page.locator("[data-testid=wb-unc-warning]")
    assert note.is_visible() and "模拟" in note.inner_text()
    page.locator("[data-testid=wb-unc-warning]").scroll_into_view_if_needed()
    page.screenshot(path=str(indexed_demo.screenshots / "workbench-uncertainty-note.png"))
    page.evaluate("() => { window.cgWorkbench.analysis = null; }")
    note.locator("button[data-remedy=shift]").click()
    page.wait_for_function("() => window.cgWorkbench.analysis")
    assert note.is_hidden() and page.locator("#wb-unc-remedy").is_visible()
    page.wait_for_timeout(1200)
    page.locator("#wb-unc-remedy").scroll_into_view_if_needed()
    page.screenshot(path=str(indexed_demo.screenshots / "workbench-uncertainty-remedied.png"))
    ctx.close()
