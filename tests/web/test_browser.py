"""In Chromium: a street commander logs in, sees the street map with Chinese names rendered,
and switches to English."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from citygrowth.areas.models import Area
from citygrowth.db import make_engine, make_sessionmaker
from tests.browser import DemoServer, login_page
from tests.factories import TEST_AUDIT

SERIES_NAMES = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById('street-map'));
  return chart.getOption().series[0].data.map(d => d.name);
}"""


def _streets(server: DemoServer) -> list[Area]:
    engine = make_engine(server.settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        rows = list(s.scalars(select(Area).where(Area.level == "street",
                                                 Area.parent_code == "370203")))
    engine.dispose()
    return rows


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_street_commander_sees_map_in_chinese_then_english(
        demo_server: DemoServer, browser: Any) -> None:
    streets = _streets(demo_server)
    # a browser set to Chinese, as the district's staff use (the default language is Chinese
    # anyway; an English browser would get English through Accept-Language)
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    login_page(page, demo_server, "street1", "street1-demo-2026")
    page.wait_for_selector("#street-map canvas")
    assert page.locator(".userbox .who").inner_text() == "街道指挥中心一"
    names = page.evaluate(SERIES_NAMES)
    assert sorted(names) == sorted(a.name_zh for a in streets)
    assert any("街道" in n for n in names)
    table = page.locator("[data-testid=street-table]").inner_text()
    assert streets[0].name_zh in table
    # the page's CJK font is installed, so the Chinese glyphs really render
    assert page.evaluate("() => document.fonts.check('16px \"WenQuanYi Micro Hei\"', '街道')")
    shot = demo_server.screenshots / "home-zh.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")

    with page.expect_navigation():
        page.click("[data-testid=lang-switch]")
    page.wait_for_selector("#street-map canvas")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Streets" in page.locator("main").inner_text()
    english = page.evaluate(SERIES_NAMES)
    assert sorted(english) == sorted(a.name_en or a.name_zh for a in streets)
    assert page.locator("[data-testid=lang-switch]").inner_text().strip() == "中文"
    shot_en = demo_server.screenshots / "home-en.png"
    page.screenshot(path=str(shot_en), full_page=True)
    print(f"screenshot: {shot_en}")
    page.close()
