"""In Chromium, by clicks: a grid worker's patrol app queues two reports offline, survives a
reload, and sends both exactly once when back online; a helper takes and completes a task; the
district and street command centers draw the district map with open cases and open a case
from it; an officer accepts and handles a case with the camera. Screenshots are written to the
server's screenshot folder (their paths are printed)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from citygrowth.areas.models import Area
from citygrowth.auth.actor import system_actor
from citygrowth.auth.models import User
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.governance.demo import load_demo as load_cases
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests import browser as browser_fixtures
from tests.browser import DemoServer, load_demo, login_page
from tests.factories import TEST_AUDIT
from tests.serve import serve_app

browser = browser_fixtures.browser
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def grid_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo district and users, with two months of illustrative cases and the demo
    helper registered (the governance demo step, shortened)."""
    root = tmp_path_factory.mktemp("grid-server")
    settings = Settings(data_dir=root / "var", env="test", secret_key="grid-browser-secret",
                        scheduler_enabled=False, log_level="WARNING")
    load_demo(settings)
    runtime = build_runtime(settings)
    with runtime.session() as s:
        load_cases(s, system_actor("demo"), runtime, months=2, evaluation=False)
    runtime.dispose()
    shots = root / "screenshots"
    shots.mkdir()
    with serve_app(settings) as url:
        yield DemoServer(url, settings, shots)


def _json(page: Any, path: str) -> Any:
    parts = urlsplit(page.url)
    r = page.request.get(f"{parts.scheme}://{parts.netloc}{path}")
    assert r.ok, (path, r.status, r.text()[:300])
    return r.json()


def _png(path: Path) -> Path:
    """A small real PNG (a camera photo stands in)."""
    raw = b"".join(b"\x00" + bytes([200, 80, 40] * 16) for _ in range(16))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2,
                                                                      0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def _tap_grid(page: Any, server: DemoServer, grid: str) -> None:
    """Tap the patrol map at the centre of a grid cell."""
    engine = make_engine(server.settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        area = s.get(Area, grid)
        assert area is not None
        lon, lat = area.centroid_lon, area.centroid_lat
    engine.dispose()
    page.wait_for_function("() => { const el = document.getElementById('patrol-map');"
                           " return el && window.echarts && echarts.getInstanceByDom(el)"
                           " && echarts.getInstanceByDom(el).getOption().geo; }")
    page.locator("#patrol-map").scroll_into_view_if_needed()
    xy = page.evaluate("([lon, lat]) => echarts.getInstanceByDom(document.getElementById("
                       "'patrol-map')).convertToPixel({geoIndex: 0}, [lon, lat])", [lon, lat])
    box = page.locator("#patrol-map").bounding_box()
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])


def _grid_of(server: DemoServer, username: str) -> str:
    engine = make_engine(server.settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None
        code = user.grants[0].area_code
    engine.dispose()
    return code


def test_patrol_reports_queued_offline_survive_a_reload_and_sync_once(
        grid_server: DemoServer, browser: Any, tmp_path: Path) -> None:
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN", service_workers="allow")
    page = ctx.new_page()
    login_page(page, grid_server, "grid1", "grid1-demo-2026", "/m/patrol")
    page.goto(grid_server.url + "/m/patrol")
    # the service worker takes the page under control and caches the app shell
    page.wait_for_function("() => navigator.serviceWorker.controller !== null || "
                           "(navigator.serviceWorker.ready.then(() => location.reload()), false)",
                           timeout=20_000)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    manifest = _json(page, "/m/manifest.webmanifest")
    assert manifest["scope"] == "/m/" and manifest["start_url"] == "/m/patrol"
    assert {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    grid = _grid_of(grid_server, "grid1")
    before = _json(page, "/api/cases?status=reported&count=true")["total"]

    ctx.set_offline(True)
    page.wait_for_function("() => !navigator.onLine")
    assert page.locator("#net").inner_text() == "离线"
    notes = ("人行道井盖缺失（离线一）", "垃圾满溢（离线二）")
    for i, note in enumerate(notes):
        page.select_option("#category", index=i)
        page.fill("#note", note)
        if i == 0:
            page.set_input_files("#photo", str(_png(tmp_path / "photo.png")))
        _tap_grid(page, grid_server, grid)
        page.wait_for_function("() => document.getElementById('place').textContent.length > 0")
        assert "网格" in page.locator("[data-testid=place]").inner_text()
        page.click("[data-testid=send]")
        page.wait_for_function(f"() => document.getElementById('queue-state').dataset.count"
                               f" === '{i + 1}'")
    assert page.locator("#pending li").count() == 2
    shot = grid_server.screenshots / "patrol-offline-phone.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")

    page.reload()  # offline: the service worker serves the app, IndexedDB keeps the queue
    page.wait_for_function("() => document.getElementById('queue-state').dataset.count === '2'")
    assert page.locator("#pending li").count() == 2
    assert not page.evaluate("() => navigator.onLine")

    ctx.set_offline(False)  # back online: both are sent, each once
    page.wait_for_function("() => document.getElementById('queue-state').dataset.count === '0'"
                           " && document.querySelectorAll('#sent li').length === 2",
                           timeout=20_000)
    page.evaluate("() => window.cgPatrol.flush()")  # sending again changes nothing
    cases = _json(page, "/api/cases?status=reported&limit=1000&count=true")
    assert cases["total"] == before + 2
    mine = [c for c in cases["items"] if c["description"] in notes]
    assert sorted(c["description"] for c in mine) == sorted(notes)
    assert all(c["area_code"] == grid for c in mine)
    with_photo = next(c for c in mine if c["description"] == notes[0])
    assert len(with_photo["photos"]) == 1 and with_photo["photos"][0].startswith("/media/")
    shown = {int(li.get_attribute("data-case")) for li in page.locator("#sent li").all()}
    assert shown == {c["id"] for c in mine}
    shot = grid_server.screenshots / "patrol-synced-phone.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    ctx.close()


def test_a_helper_takes_and_completes_a_task_by_clicks(
        grid_server: DemoServer, browser: Any) -> None:
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = ctx.new_page()
    login_page(page, grid_server, "helper", "helper-demo-2026", "/help")
    page.goto(grid_server.url + "/help")
    take = page.locator("[data-testid^=take-]").first
    task_id = (take.get_attribute("data-testid") or "").split("-")[1]
    assert page.locator(f"[data-testid=done-{task_id}]").count() == 0
    with page.expect_navigation():
        take.click()
    card = page.locator(f"[data-testid=task-{task_id}]")
    assert card.locator(f"[data-testid=take-{task_id}]").count() == 0  # taken: no button
    card.locator(f"[data-testid=hours-{task_id}]").fill("1.5")
    card.locator(f"[data-testid=note-{task_id}]").fill("已陪同就诊并送回家")
    with page.expect_navigation():
        card.locator(f"[data-testid=done-{task_id}]").click()
    card = page.locator(f"[data-testid=task-{task_id}]")
    assert "已办结" in card.inner_text()
    assert "1.5" in card.inner_text() and "已陪同就诊并送回家" in card.inner_text()
    assert card.locator("button").count() == 0
    tasks = _json(page, "/api/help/tasks?status=done")["items"]
    done = next(t for t in tasks if t["id"] == int(task_id))
    assert done["hours"] == 1.5 and done["mine"]
    shot = grid_server.screenshots / "help-phone.png"
    page.screenshot(path=str(shot), full_page=False)
    print(f"screenshot: {shot}")
    ctx.close()


def _map_ready(page: Any) -> None:
    page.wait_for_function("() => document.getElementById('case-map').dataset.ready === '1'",
                           timeout=20_000)
    page.wait_for_timeout(1200)  # ECharts' entrance animation


def test_command_centers_on_the_district_map(grid_server: DemoServer, browser: Any) -> None:
    ctx = browser.new_context(viewport=DESK, locale="zh-CN")
    page = ctx.new_page()
    login_page(page, grid_server, "admin", "admin-demo-2026", "/command")
    page.goto(grid_server.url + "/command")
    _map_ready(page)
    open_cases = _json(page, "/api/cases?queue=open&count=true")["total"]
    drawn = page.evaluate("() => { const c = document.getElementById('case-map').cgMap"
                          ".clusters(); return {singles: c.singles.length, groups:"
                          " c.groups.length, inGroups: c.groups.reduce((n, g) => n + g.length,"
                          " 0)}; }")
    assert drawn["singles"] + drawn["inGroups"] == open_cases > 0
    status = page.evaluate("() => echarts.getInstanceByDom(document.getElementById("
                           "'status-chart')).getOption()")
    labels = status["xAxis"][0]["data"]
    assert "已结案" not in labels and "已作废" not in labels
    assert sum(d["value"] for d in status["series"][0]["data"]) == open_cases
    # the map is the store's streets, communities and grid cells
    layers = page.evaluate("() => { const l = document.getElementById('case-map').cgMap"
                           ".layers(); return [l.street.length, l.community.length,"
                           " l.grid.length]; }")
    assert layers[0] == 22 and layers[1] > 100 and layers[2] > 300
    overdue = page.locator("[data-testid=queue-overdue] .n").inner_text()
    assert int(overdue) == _json(page, "/api/cases?queue=overdue&count=true")["total"]
    shot = grid_server.screenshots / "command-district-1440.png"
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    # click a case on the map: its page opens
    chart = "echarts.getInstanceByDom(document.getElementById('case-map'))"
    if drawn["singles"] == 0:  # all clustered: zoom in on one cluster first
        page.evaluate("() => { const m = document.getElementById('case-map').cgMap;"
                      " const g = m.clusters().groups[0]; m.zoomTo([g[0].lon, g[0].lat], 30); }")
    point = page.evaluate("() => document.getElementById('case-map').cgMap.clusters()"
                          ".singles[0]")
    page.locator("#case-map").scroll_into_view_if_needed()
    page.wait_for_timeout(600)
    xy = page.evaluate(f"([lon, lat]) => {chart}.convertToPixel({{geoIndex: 0}}, [lon, lat])",
                       [point["lon"], point["lat"]])
    box = page.locator("#case-map").bounding_box()
    with page.expect_navigation():
        page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
    assert page.url.endswith(f"/command/cases/{point['id']}")
    # a street's command center: its own map and cases
    page.goto(grid_server.url + "/command/street/370203005")
    _map_ready(page)
    street_open = _json(page, "/api/cases?queue=open&area=370203005&count=true")["total"]
    drawn = page.evaluate("() => { const c = document.getElementById('case-map').cgMap"
                          ".clusters(); return c.singles.length + c.groups.reduce((n, g) =>"
                          " n + g.length, 0); }")
    assert drawn == street_open
    shot = grid_server.screenshots / "command-street-1440.png"
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    ctx.close()


def test_an_officer_accepts_and_handles_with_the_camera(
        grid_server: DemoServer, browser: Any, tmp_path: Path) -> None:
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = ctx.new_page()
    login_page(page, grid_server, "urban", "urban-demo-2026", "/m/tasks")
    page.goto(grid_server.url + "/m/tasks")
    accept = page.locator("[data-testid^=accept-]").first
    case_id = (accept.get_attribute("data-testid") or "").split("-")[1]
    assert "剩余" in page.locator(f"[data-testid=task-{case_id}]").inner_text() or \
        "超期" in page.locator(f"[data-testid=task-{case_id}]").inner_text()
    with page.expect_navigation():
        accept.click()
    page.set_input_files(f"[data-testid=photo-handle-{case_id}]", str(_png(tmp_path / "a.png")))
    page.locator(f"[data-testid=task-{case_id}] input[name=note]").first.fill("已清理完毕")
    with page.expect_navigation():
        page.click(f"[data-testid=handle-{case_id}]")
    case = _json(page, f"/api/cases/{case_id}")
    assert case["case"]["status"] == "handled"
    last = case["events"][-1]
    assert last["action"] == "handle" and last["note"] == "已清理完毕" and len(last["photos"]) == 1
    ctx.close()
