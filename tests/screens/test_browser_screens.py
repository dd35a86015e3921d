"""In Chromium: the big screen, the explorer, an area profile, the workbench and data health
draw the numbers of their JSON twins; the map drills down; the language switches; the big
screen updates itself after a new load, without reloading."""

from __future__ import annotations

import io
import json
import math
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import pytest

from citygrowth.runtime import build_runtime
from citygrowth.web.render import LABELS, column_keys
from tests import browser as browser_fixtures
from tests.browser import login_page
from tests.screens import browser_world
from tests.screens.browser_world import ADMIN, ANALYST, DISTRICT, ScreensServer

# the session fixtures: one Chromium and one server on the small world per test worker
browser = browser_fixtures.browser
screens_server = browser_world.screens_server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

BIG = {"width": 1920, "height": 1080}
STREET_SUMMARY = f"/api/screen/summary?level=street&parent={DISTRICT}"


@pytest.fixture(scope="module")
def admin(screens_server: ScreensServer, browser: Any) -> Iterator[Any]:
    """A browser context logged in as the district administrator."""
    ctx = browser.new_context(viewport=BIG, locale="zh-CN")
    page = ctx.new_page()
    login_page(page, screens_server, *ADMIN)
    page.close()
    yield ctx
    ctx.close()


def get_json(page: Any, path: str) -> Any:
    """GET ``path`` with the page's cookies (the JSON twin of what the page shows)."""
    parts = urlsplit(page.url)
    r = page.request.get(f"{parts.scheme}://{parts.netloc}{path}")
    assert r.ok, (path, r.status, r.text()[:300])
    return r.json()


def open_screen(ctx: Any, server: ScreensServer, query: str = "") -> Any:
    page = ctx.new_page()
    page.goto(f"{server.url}/screen{query}")
    page.wait_for_function("() => Number(document.getElementById('screen').dataset.refreshes"
                           " || 0) >= 1")
    return page


def option(page: Any, chart: str) -> Any:
    return page.evaluate(f"() => window.cgScreen.charts.{chart}.getOption()")


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def test_big_screen_draws_the_numbers_of_its_json_twin(
        admin: Any, screens_server: ScreensServer) -> None:
    page = open_screen(admin, screens_server)
    assert "城市生长力" in page.title()
    assert "城市生长力" in page.locator(".bs-title").inner_text()
    assert page.evaluate("() => document.fonts.check('16px \"WenQuanYi Micro Hei\"', '城市')")
    twin = get_json(page, STREET_SUMMARY)
    shown = page.evaluate("() => window.cgScreen.summary")
    assert shown["map_items"] == twin["map_items"]

    # the map: one region per street, coloured by the twin's values
    series = option(page, "map")["series"][0]
    drawn = {d["name"]: d["value"] for d in series["data"]}
    assert drawn == {i["code"]: i["value"] for i in twin["map_items"]}
    assert len(drawn) == len(screens_server.streets) and all(
        v is not None for v in drawn.values())
    assert series["map"] == f"street-{DISTRICT}"

    # radar: the district's pillar scores of the last two periods
    radar = option(page, "radar")["series"][0]["data"]
    assert [d["name"] for d in radar] == [s["name"] for s in twin["radar"]["series"]]
    for d, s in zip(radar, twin["radar"]["series"], strict=True):
        assert all(close(a, b) for a, b in zip(d["value"], s["values"], strict=True))

    # ranking: best street at the top (ECharts draws categories bottom-up)
    rank = option(page, "ranking")
    best = max(twin["map_items"], key=lambda i: i["value"])
    assert rank["series"][0]["data"][-1] == best["value"]
    assert rank["yAxis"][0]["data"][-1].startswith(best["name"])
    assert sorted(rank["series"][0]["data"]) == sorted(i["value"] for i in twin["map_items"])

    # headline and key figures: each with its unit, its period in words and its source
    assert page.locator("#headline-value").inner_text() == twin["headline"]["display"]
    assert twin["headline"]["period_text"] in page.locator("[data-testid=headline]").inner_text()
    tiles = page.locator("#figures .fig")
    assert tiles.count() == len(twin["key_figures"]) == 2
    gdp = page.locator("#figures .fig[data-code=ECO_GDP]")
    # the latest complete year, summed over its quarters, a whole number printed as one
    assert gdp.locator(".val").inner_text() == "600"
    assert "2025年" in gdp.inner_text() and "区统计局" in gdp.inner_text()
    assert "亿元" in gdp.inner_text()
    projects = page.locator("#figures .fig[data-code=KEY_PROJECTS]").inner_text()
    assert "1" in projects and "总投资12.5亿元" in projects
    # case handling: the last complete month, not the running one, against the target that
    # follows it, in that target's colour
    ontime = page.locator("#cases .fig[data-code=GOV_CASE_ONTIME_RATE]")
    assert ontime.locator(".val").inner_text() == "96.5"
    case = next(c for c in twin["cases"] if c["code"] == "GOV_CASE_ONTIME_RATE")
    assert case["period_text"] in ontime.inner_text() and "目标95%" in ontime.inner_text()
    assert case["linked_target"]["target_code"] == "T-ONTIME"
    assert case["status"] in (ontime.get_attribute("class") or "").split()
    # the targets, with the status of the target pages
    row = page.locator("#targets li[data-code=T-ONTIME]")
    listed = get_json(page, "/api/accountability/targets")["items"]
    status = next(t for t in listed if t["code"] == "T-ONTIME")["status"]
    assert status in (row.get_attribute("class") or "").split()
    # street names are written on the map
    assert option(page, "map")["series"][0]["label"]["show"] is True
    # every panel drew something (a canvas with a size)
    for chart in ("map", "radar", "trend", "ranking"):
        box = page.locator(f"#{chart} canvas").first.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 150, chart
    shot = screens_server.screenshots / "screen-zh.png"
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    page.close()


def test_map_drills_down_to_communities_and_back(
        admin: Any, screens_server: ScreensServer) -> None:
    page = open_screen(admin, screens_server)
    twin = get_json(page, STREET_SUMMARY)
    street = max(twin["map_items"], key=lambda i: i["value"])["code"]
    area = get_json(page, f"/api/areas/{street}")["area"]
    xy = page.evaluate(
        "([lon, lat]) => window.cgScreen.charts.map.convertToPixel({seriesIndex: 0}, [lon, lat])",
        [area["centroid_lon"], area["centroid_lat"]])
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
    page.wait_for_function("() => window.cgScreen.state.level === 'community' && "
                           "Number(document.getElementById('screen').dataset.refreshes) >= 2")
    assert page.evaluate("() => window.cgScreen.state.parent") == street
    sub = get_json(page, f"/api/screen/summary?level=community&parent={street}")
    series = option(page, "map")["series"][0]
    assert series["map"] == f"community-{street}"
    assert {d["name"]: d["value"] for d in series["data"]} == {
        i["code"]: i["value"] for i in sub["map_items"]}
    assert all(d["name"].startswith(street) for d in series["data"])
    assert area["name"] in page.locator("#crumbs").inner_text()
    assert page.locator("#headline-value").inner_text() == sub["headline"]["display"]

    page.click("#up")
    page.wait_for_function("() => window.cgScreen.state.level === 'street' && "
                           "Number(document.getElementById('screen').dataset.refreshes) >= 3")
    assert option(page, "map")["series"][0]["map"] == f"street-{DISTRICT}"
    assert page.locator("#up").is_hidden()
    page.close()


def test_the_ranking_and_the_profile_link_open_area_profiles(
        admin: Any, screens_server: ScreensServer) -> None:
    page = open_screen(admin, screens_server)
    twin = get_json(page, STREET_SUMMARY)
    best = twin["ranking_codes"][-1]  # ECharts draws the best street at the top
    xy = page.evaluate("""() => {
      const c = window.cgScreen.charts.ranking, data = c.getOption().series[0].data;
      return c.convertToPixel({seriesIndex: 0}, [data[data.length - 1] / 2, data.length - 1]);
    }""")
    box = page.locator("#ranking").bounding_box()
    with page.expect_navigation():
        page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
    assert urlsplit(page.url).path == f"/profile/{best}"
    assert page.locator("h1").inner_text().startswith(
        next(i["name"] for i in twin["map_items"] if i["code"] == best))
    page.go_back()
    page.wait_for_function("() => Number(document.getElementById('screen').dataset.refreshes"
                           " || 0) >= 1")
    with page.expect_navigation():
        page.click("#profile-link")
    assert urlsplit(page.url).path == f"/profile/{DISTRICT}"
    page.close()


def test_big_screen_updates_itself_after_a_new_load(
        admin: Any, screens_server: ScreensServer) -> None:
    page = open_screen(admin, screens_server)
    page.evaluate("() => { window.__marker = 'still-here'; }")
    before = int(page.locator("#screen").get_attribute("data-refreshes"))
    tile = page.locator("#figures .fig[data-code=ECO_GDP]")
    assert tile.locator(".val").inner_text() == "600"
    # give the page's event stream a moment to connect, then push a new figure over HTTP,
    # as the statistics department's system does
    page.wait_for_timeout(300)
    r = page.request.post(f"{screens_server.url}/api/ingest/stats",
                          headers={"X-API-Key": screens_server.stats_key},
                          data=json.dumps({"rows": [{"indicator": "ECO_GDP",
                                                     "area_code": DISTRICT, "period": "2026-Q1",
                                                     "value": 162.5}]}))
    assert r.ok, r.text()
    page.wait_for_function(
        f"() => Number(document.getElementById('screen').dataset.refreshes) > {before}",
        timeout=10_000)
    page.wait_for_function("() => document.querySelector('#figures .fig[data-code=ECO_GDP]"
                           " .val').textContent === '162.5'")
    assert "2026年第一季度" in tile.inner_text()
    assert page.evaluate("() => window.__marker") == "still-here"
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    page.close()


def test_language_switch_on_big_screen_and_explorer(
        screens_server: ScreensServer, browser: Any) -> None:
    ctx = browser.new_context(viewport=BIG, locale="zh-CN")
    page = ctx.new_page()
    login_page(page, screens_server, *ANALYST)
    page.goto(f"{screens_server.url}/screen")
    page.wait_for_function("() => Number(document.getElementById('screen').dataset.refreshes"
                           " || 0) >= 1")
    assert "主要指标" in page.locator(".bs-left").inner_text()
    with page.expect_navigation():
        page.click("[data-testid=lang-switch]")
    page.wait_for_function("() => Number(document.getElementById('screen').dataset.refreshes"
                           " || 0) >= 1")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "City Growth Command Screen" in page.locator(".bs-title").inner_text()
    assert "Five forces" in page.locator(".bs-left").inner_text()
    twin = get_json(page, STREET_SUMMARY)
    names = {s["code"]: s["name_en"] for s in screens_server.streets}
    assert all(i["name"] == names[i["code"]] for i in twin["map_items"])
    rank = option(page, "ranking")["yAxis"][0]["data"]
    assert any("Subdistrict" in label for label in rank)
    assert page.locator("[data-testid=lang-switch]").inner_text().strip() == "中文"
    shot = screens_server.screenshots / "screen-en.png"
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")

    page.goto(f"{screens_server.url}/explore?indicator=ECO_FIN_INSTITUTIONS")
    page.wait_for_function("() => window.cgExplore && window.cgExplore.data.series")
    assert page.locator("h1").inner_text() == "Indicator explorer"
    assert "Over time" in page.locator("#series-title").inner_text()
    with page.expect_navigation():
        page.click("[data-testid=lang-switch]")
    page.wait_for_function("() => window.cgExplore && window.cgExplore.data.series")
    assert page.locator("h1").inner_text() == "指标浏览"
    assert "时间走势" in page.locator("#series-title").inner_text()
    ctx.close()


def test_explorer_chart_and_downloads_match_the_json(
        admin: Any, screens_server: ScreensServer) -> None:
    page = admin.new_page()
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{screens_server.url}/explore?indicator=ECO_FIN_INSTITUTIONS")
    page.wait_for_function("() => window.cgExplore.data.series && window.cgExplore.data.map")
    codes = page.evaluate("() => Array.from(document.querySelectorAll('input[name=area]:checked'))"
                          ".map(i => i.value)")
    assert len(codes) >= 2
    path = f"/api/explore/series?indicator=ECO_FIN_INSTITUTIONS&areas={','.join(codes)}"
    twin = get_json(page, path)
    opt = page.evaluate("() => window.cgExplore.series.getOption()")
    assert opt["xAxis"][0]["data"] == twin["periods"]
    drawn = {s["name"]: s["data"] for s in opt["series"]}
    for s in twin["series"]:
        assert drawn[s["name"]] == s["values"]
    assert any(v is not None for s in twin["series"] for v in s["values"])
    assert "金融机构数" in page.locator("#ind-name").inner_text()
    meta = page.locator("#series-meta").inner_text()
    assert twin["indicator"]["unit"] in meta and twin["indicator"]["department"] in meta

    # CSV: the same numbers as the JSON
    href = page.locator("#series-csv").get_attribute("href")
    r = page.request.get(screens_server.url + href)
    assert r.ok and r.headers["content-type"].startswith("text/csv")
    table = pd.read_csv(io.BytesIO(r.body()), encoding="utf-8-sig", dtype=str)
    table.columns = column_keys(table.columns, LABELS)  # the header is in the reader's language
    expected = {(s["area_code"], p): v for s in twin["series"]
                for p, v in zip(twin["periods"], s["values"], strict=True)}
    got = {(row.area_code, row.period): (None if pd.isna(row.value) else float(row.value))
           for row in table.itertuples()}
    assert got == expected

    # PNG: the link becomes a data URL of the chart and downloads a PNG
    with page.expect_download() as dl:
        page.click("#series-png")
    assert page.locator("#series-png").get_attribute("href").startswith("data:image/png;base64,")
    with open(dl.value.path(), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"

    # the street map of the same indicator: the twin's values, by street code
    map_twin = get_json(page, "/api/explore/map?indicator=ECO_FIN_INSTITUTIONS&level=street"
                              f"&parent={DISTRICT}")
    mopt = page.evaluate("() => window.cgExplore.map.getOption()")
    assert {d["name"]: d["value"] for d in mopt["series"][0]["data"]} == {
        i["code"]: i["value"] for i in map_twin["items"]}
    page.close()


def test_area_profile_shows_its_json_twin(admin: Any, screens_server: ScreensServer) -> None:
    street = screens_server.streets[0]
    page = admin.new_page()
    page.set_viewport_size({"width": 1400, "height": 900})
    # the first visit computes the rank interval (Monte Carlo) and the drivers; later visits
    # read them from the cache
    t0 = time.perf_counter()
    page.goto(f"{screens_server.url}/profile/{street['code']}", timeout=180_000)
    print(f"first profile page: {time.perf_counter() - t0:.1f} s")
    page.wait_for_function("() => window.cgCharts && window.cgCharts.trend")
    twin = get_json(page, f"/api/profile/{street['code']}")
    assert page.locator("h1").inner_text().startswith(street["name_zh"])
    assert page.locator("[data-testid=profile-index]").inner_text() == f"{twin['index']:.1f}"
    rank = page.locator("[data-testid=profile-rank]").inner_text()
    assert f"{twin['rank']['rank']}" in rank and f"{twin['rank']['of']}" in rank
    trend = page.evaluate("() => window.cgCharts.trend.getOption()")
    assert trend["xAxis"][0]["data"] == twin["periods"]
    drawn = {s["name"]: s["data"] for s in trend["series"]}
    for s in twin["series"]:
        assert all(close(a, b) for a, b in zip(drawn[s["name"]], s["values"], strict=True))
    radar = page.evaluate("() => window.cgCharts.radar.getOption()")["series"][0]["data"]
    assert all(close(a, b) for a, b in zip(radar[-1]["value"],
                                           [p["value"] for p in twin["pillars"]], strict=True))
    for chart in ("trend", "radar", "drivers"):
        box = page.locator(f"#{chart}-chart canvas").first.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 150, chart
    shot = screens_server.screenshots / "profile-street.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    page.close()


def test_workbench_preview_matches_a_direct_preview(
        admin: Any, screens_server: ScreensServer) -> None:
    page = admin.new_page()
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{screens_server.url}/workbench")
    page.wait_for_function("() => window.cgWorkbench && window.cgWorkbench.last")
    before = page.locator("#wb-table tbody").inner_text()
    weight = page.locator("input[name='w:CGI:ECO']")
    assert weight.count() == 1
    page.evaluate("() => { window.cgWorkbench.last = null; }")
    weight.fill("0")
    page.click("[data-testid=wb-preview]")
    page.wait_for_function("() => window.cgWorkbench.last")
    body = page.evaluate("""() => {
      const f = document.getElementById('wb-form');
      const w = {};
      f.querySelectorAll("input[name^='w:CGI:']").forEach(i => { w[i.name.split(':')[2]] =
        parseFloat(i.value); });
      return {level: f.level.value, normalisation: f.normalisation.value,
              aggregation: f.aggregation.value, weighting: f.weighting.value,
              weights: {CGI: w}};
    }""")
    assert body["weights"]["CGI"]["ECO"] == 0
    csrf = page.evaluate("() => JSON.parse(document.body.getAttribute('hx-headers') || '{}')"
                         "['X-CSRF-Token'] || ''")
    r = page.request.post(f"{screens_server.url}/api/workbench/preview", data=json.dumps(body),
                          headers={"Content-Type": "application/json", "X-CSRF-Token": csrf})
    assert r.ok, r.text()
    direct = r.json()
    rows = page.locator("#wb-table tbody tr")
    assert rows.count() == len(direct["rows"]) > 0
    after = page.locator("#wb-table tbody").inner_text()
    assert after != before
    for i, row in enumerate(direct["rows"]):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert cells[0] == row["name"]
        assert cells[2] == ("—" if row["value_b"] is None else str(row["value_b"]))
        assert cells[4] == ("—" if row["rank_b"] is None else str(row["rank_b"]))
    assert any(row["value_a"] != row["value_b"] for row in direct["rows"])
    page.close()


def test_data_health_renders_its_chart(admin: Any, screens_server: ScreensServer) -> None:
    page = admin.new_page()
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{screens_server.url}/data/health")
    page.wait_for_function("() => window.cgCharts && window.cgCharts.health")
    twin = get_json(page, "/api/data/health")
    opt = page.evaluate("() => window.cgCharts.health.getOption()")
    assert opt["series"] and opt["series"][0]["data"]
    box = page.locator("#health-chart canvas").first.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 150
    text = page.locator("main").inner_text()
    assert all(d["name"] in text for d in twin["departments"])
    page.close()


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def test_screens_data_apis_answer_fast(admin: Any, screens_server: ScreensServer) -> None:
    """Times 20 calls of each data API after a warm-up and prints the p95 (not asserted:
    timings on a shared test machine are noisy)."""
    street = screens_server.streets[0]["code"]
    page = admin.new_page()
    page.goto(f"{screens_server.url}/screen")
    paths = {
        "screen summary": STREET_SUMMARY,
        "explore series": f"/api/explore/series?indicator=ECO_FIN_INSTITUTIONS&areas={DISTRICT},"
                          f"{street}",
        "profile": f"/api/profile/{street}",
    }
    for name, path in paths.items():
        get_json(page, path)
        samples = []
        for _ in range(20):
            t0 = time.perf_counter()
            get_json(page, path)
            samples.append((time.perf_counter() - t0) * 1000)
        print(f"p95 {name}: {p95(samples):.1f} ms (median {sorted(samples)[10]:.1f} ms)")
    page.close()


def test_workbench_publishes_a_version_and_the_index_follows(
        admin: Any, screens_server: ScreensServer) -> None:
    """Last in this module: it changes the district's framework, and resets it at the end."""
    from citygrowth.auth.actor import system_actor
    from citygrowth.db import make_engine, make_sessionmaker
    from citygrowth.index.publish import reset_framework

    page = admin.new_page()
    page.goto(f"{screens_server.url}/workbench")
    page.wait_for_function("() => window.cgWorkbench && window.cgWorkbench.last")
    before = get_json(page, "/api/workbench")
    page.locator("input[name='w:CGI:ECO']").fill("3")
    page.fill("#wb-version", "2026.b1")
    page.once("dialog", lambda d: d.accept())
    page.click("[data-testid=wb-publish]")
    page.wait_for_function(
        "() => document.getElementById('wb-publish-result').textContent.includes('2026.b1')")
    assert "生效" in page.locator("#wb-publish-result").inner_text()
    try:
        after = get_json(page, "/api/workbench")
        assert after["framework"]["version"] == "2026.b1" != before["framework"]["version"]
        eco = [c for n in after["tree"] if n["code"] == "CGI" for c in n["children"]
               if c["code"] == "ECO"]
        assert eco and eco[0]["weight"] == 3
    finally:
        page.close()
        settings = screens_server.settings
        factory = make_sessionmaker(make_engine(settings.resolved_database_url))
        with factory() as s:
            reset_framework(s, build_runtime(settings), system_actor("test"))
            s.commit()
