"""The closed loop in real Chromium, by clicks, a different login for each step:

a resident on a phone (390×844) reports a broken street light with a photo and a pin on the
district map → street staff register and dispatch it → the department's officer accepts and
reports it handled with an after-photo → the grid worker verifies it on site with a note and
a photo → street staff close it → the resident reads the reply and sees the photo in local
time, rates it, and reopens another report that was closed.

(The department's inbox and webhook are the delivery work's own browser test; this walk stops
at the case page.) Screenshots of the resident's report and tracking pages are kept in the
server's screenshot folder.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from citygrowth.areas.geo import wgs84_to_gcj02
from citygrowth.areas.models import Area
from citygrowth.auth.actor import system_actor
from citygrowth.auth.identity import actor_for_user
from citygrowth.auth.models import User
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.governance.intake import ReportInput, submit_report
from citygrowth.governance.lifecycle import transition
from citygrowth.governance.models import Case
from citygrowth.governance.taxonomy import ensure_taxonomy
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.browser import DEMO_PLUGINS, DemoServer, load_demo, login_page
from tests.serve import serve_app

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "zh-CN"}
DESK = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
LOCAL_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")


def _earlier_report(settings: Settings) -> int:
    """A report the demo resident made before, already closed (to be reopened)."""
    runtime = build_runtime(settings)
    with runtime.session() as s:
        ensure_taxonomy(s, runtime)
        resident = s.scalar(select(User).where(User.username == "resident"))
        grid = s.scalar(select(User).where(User.username == "grid1"))
        assert resident is not None and grid is not None
        area = grid.grants[0].area_code
        lon, lat = _centre(s, area)
        case = submit_report(s, actor_for_user(resident), ReportInput(
            category_code="E0101", lon=lon, lat=lat, description="楼下垃圾堆了三天",
            source="resident"), runtime=runtime).case
        system = system_actor("test")
        for action, extra in (("register", {}), ("dispatch", {"department_code": "urban"}),
                              ("accept", {}), ("handle", {"note": "已清运"}), ("verify", {}),
                              ("close", {})):
            transition(s, system, case, action, runtime=runtime,
                       **extra)  # type: ignore[arg-type]
        s.flush()
        case_id = case.id
    runtime.dispose()
    return case_id


def _centre(session: Any, code: str) -> tuple[float, float]:
    area = session.get(Area, code)
    return float(area.centroid_lon), float(area.centroid_lat)


def _gps_of(lon: float, lat: float) -> tuple[float, float]:
    """The WGS-84 position a phone would report at a GCJ-02 point (inverse, by iteration)."""
    x, y = lon, lat
    for _ in range(8):
        gx, gy = wgs84_to_gcj02(x, y)
        x, y = x - (gx - lon), y - (gy - lat)
    return x, y


@pytest.fixture(scope="module")
def loop_server(tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[DemoServer, int, tuple[float, float]]]:
    root = tmp_path_factory.mktemp("resident-loop")
    settings = Settings(data_dir=root / "var", env="test", secret_key="resident-loop-secret",
                        scheduler_enabled=False, log_level="WARNING")
    load_demo(settings, DEMO_PLUGINS)
    earlier = _earlier_report(settings)
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine)() as s:
        gps = _gps_of(*_centre(s, "370203005001002"))  # the next cell of grid1's community
    engine.dispose()
    shots = root / "screenshots"
    shots.mkdir()
    with serve_app(settings) as url:
        yield DemoServer(url, settings, shots), earlier, gps


def _jpeg(colour: tuple[int, int, int]) -> dict[str, Any]:
    buf = io.BytesIO()
    Image.new("RGB", (1600, 1200), colour).save(buf, "JPEG")
    return {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}


def _tap_grid_cell(page: Any, code: str) -> None:
    """Tap the map at the middle of a grid cell (found on the drawn map, not typed in)."""
    page.wait_for_function("() => window.cgReportMap && window.cgReportMap.layers()")
    xy = page.evaluate("""(code) => {
      const m = window.cgReportMap, f = m.layers().grid.find(g => g.code === code);
      return m.toPixel(f.centre[0], f.centre[1]);
    }""", code)
    box = page.locator("#report-map").bounding_box()
    page.touchscreen.tap(box["x"] + xy[0], box["y"] + xy[1])


def _open_case(page: Any, server: DemoServer, case_id: int) -> None:
    """From the command center's list, click the case."""
    with page.expect_navigation():
        page.click("nav >> text=指挥中心")
    with page.expect_navigation():
        page.click(f"[data-testid=case-table] a[href$='/command/cases/{case_id}']")


def _act(page: Any, action: str) -> None:
    with page.expect_navigation():
        page.click(f"[data-testid=act-{action}]")
    assert page.locator("[data-testid=form-errors]").count() == 0, page.inner_text("main")


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_resident_to_department_and_back_by_clicks(
        loop_server: tuple[DemoServer, int, tuple[float, float]], browser: Any) -> None:
    server, earlier, gps = loop_server
    grid = "370203005001001"  # grid1's cell: the demo grid worker verifies there

    # 1. a resident on a phone reports a broken street light with a photo and a pin
    phone = browser.new_context(**PHONE, geolocation={"longitude": gps[0], "latitude": gps[1]},
                                permissions=["geolocation"])
    rpage = phone.new_page()
    login_page(rpage, server, "resident", "resident-demo-2026")
    with rpage.expect_navigation():
        rpage.click("[data-testid=report-cta]")
    rpage.click("[data-testid=major-tiles] button:has-text('公用设施')")
    rpage.click("[data-testid=cat-C0105]")
    rpage.click("#use-position")  # the phone's GPS fix, shifted into the map's datum
    rpage.wait_for_function("() => document.getElementById('place').dataset.grid === "
                            "'370203005001002'")
    _tap_grid_cell(rpage, grid)  # and a tap moves the pin to where the light is
    rpage.wait_for_function(f"() => document.getElementById('place').dataset.grid === '{grid}'")
    place = rpage.inner_text("[data-testid=place]")
    assert "辽宁路街道" in place and "网格" in place
    rpage.set_input_files("#photo-input", files=[_jpeg((200, 120, 40))])
    rpage.wait_for_selector("[data-testid=photo-previews] img")
    rpage.fill("#description", "小区门口路灯不亮，晚上很黑")
    rpage.screenshot(path=str(server.screenshots / "resident-report-phone.png"), full_page=True)
    with rpage.expect_navigation():
        rpage.click("[data-testid=send-report]")
    assert rpage.locator("[data-testid=confirmation]").is_visible()
    token = rpage.inner_text("[data-testid=tracking-number]").strip()
    case_id = int(re.search(r"#(\d+)", rpage.inner_text("h1")).group(1))  # type: ignore[union-attr]
    assert rpage.inner_text("[data-testid=track-status]") == "已上报"

    # 2. street staff register and dispatch it to the urban management bureau
    desk = browser.new_context(**DESK)
    spage = desk.new_page()
    login_page(spage, server, "street1", "street1-demo-2026")
    _open_case(spage, server, case_id)
    assert spage.locator("[data-testid=evidence-report] img").count() == 1  # the photo
    _act(spage, "register")
    spage.select_option("[data-testid=dispatch-department]", "urban")
    _act(spage, "dispatch")
    assert spage.inner_text("[data-testid=case-department]") not in ("urban", "—", "")

    # 3. the officer accepts it and reports it handled, with the after-photo
    officer = browser.new_context(**DESK).new_page()
    login_page(officer, server, "urban", "urban-demo-2026")
    _open_case(officer, server, case_id)
    _act(officer, "accept")
    officer.fill("[data-testid=handle-note]", "已更换灯泡，恢复照明")
    officer.set_input_files("[data-testid=photo-handle]", files=[_jpeg((250, 240, 120))])
    _act(officer, "handle")
    assert officer.locator("[data-testid=evidence-handle] img").count() == 1

    # 4. the grid worker verifies on site, with a note and a photo
    worker = browser.new_context(**DESK).new_page()
    login_page(worker, server, "grid1", "grid1-demo-2026")
    _open_case(worker, server, case_id)
    worker.fill("[data-testid=verify-note]", "现场核查：路灯已亮")
    worker.set_input_files("[data-testid=photo-verify]", files=[_jpeg((20, 20, 60))])
    _act(worker, "verify")

    # 5. street staff close it
    spage.reload()
    _act(spage, "close")
    assert spage.inner_text("[data-testid=case-status]").strip() == "已结案"

    # 6. the resident reads the reply and sees the photo in local time, rates, reopens another
    with rpage.expect_navigation():
        rpage.click("nav >> text=我的上报")
    with rpage.expect_navigation():
        rpage.click(f"[data-testid=my-reports] a[href$='/track/{token}']")
    timeline = rpage.inner_text("[data-testid=timeline]")
    for step in ("已上报", "已立案", "已派遣至", "处置中", "已反馈", "已核查", "已结案"):
        assert step in timeline, timeline
    assert "已更换灯泡，恢复照明" in rpage.inner_text("[data-testid=note-handle]")
    assert "现场核查：路灯已亮" in timeline
    assert len(LOCAL_TIME.findall(timeline)) == 7 and "T" not in "".join(
        LOCAL_TIME.findall(timeline))
    after = rpage.locator("li[data-step=handle] img")
    assert after.count() == 1 and rpage.evaluate(
        "(img) => img.complete && img.naturalWidth > 0", after.element_handle())
    rpage.screenshot(path=str(server.screenshots / "resident-tracking-phone.png"),
                     full_page=True)
    rpage.click("[data-testid=rate-5]")
    with rpage.expect_navigation():
        rpage.click("[data-testid=send-rating]")
    assert "5 / 5" in rpage.inner_text("[data-testid=your-rating]")

    with rpage.expect_navigation():
        rpage.click("nav >> text=我的上报")
    with rpage.expect_navigation():
        rpage.click(f"[data-testid=my-reports] li:has-text('#{earlier}') a")
    rpage.fill("#reopen-note", "垃圾又堆起来了")
    with rpage.expect_navigation():
        rpage.click("[data-testid=reopen]")
    assert rpage.inner_text("[data-testid=track-status]") == "已立案"
    assert "垃圾又堆起来了" in rpage.inner_text("[data-testid=timeline]")

    # reports around: on the map and in the list, without what the reporter wrote
    with rpage.expect_navigation():
        rpage.click("nav >> text=附近的上报")
    rpage.wait_for_selector("#around-map canvas")
    listed = rpage.inner_text("[data-testid=around-list]")
    assert "路灯" in listed and "小区门口路灯不亮" not in rpage.content()
    rpage.screenshot(path=str(server.screenshots / "resident-around-phone.png"), full_page=True)

    engine = make_engine(server.settings.resolved_database_url)
    with make_sessionmaker(engine)() as s:
        done = s.get(Case, case_id)
        again = s.get(Case, earlier)
        assert done is not None and again is not None
        assert (done.status, done.satisfaction, done.area_code) == ("closed", 5, grid)
        assert (again.status, again.reopen_count) == ("registered", 1)
    engine.dispose()
    print(f"screenshots: {server.screenshots}")
    for ctx in (phone, desk, officer.context, worker.context):
        ctx.close()
