"""The closed loop in real Chromium, by clicks, a different login for each step:

the district administrator gives the urban management bureau a webhook to its own system (a
real HTTP server started by the test) on the delivery channels page → a resident on a phone
(390×844) reports a broken street light with a photo and a pin on the district map → street
staff register and dispatch it → the server's scheduler runs ``cases.deliver`` and the
department's system receives the case as a JSON POST signed with HMAC-SHA256 (checked here
with the secret the page showed) → the department's officer sees the unread count in the
navigation, finds the case in the inbox, opens it (now read; both deliveries shown as sent),
accepts it and reports it handled with an after-photo → the grid worker verifies it on site
with a note and a photo → street staff close it → the resident reads the reply and sees the
photo in local time, rates it, and reopens another report that was closed.

Screenshots of the resident's report, tracking and around pages, the officer's inbox and the
case page with its deliveries are kept in the server's screenshot folder (printed).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
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
from tests.factories import TEST_AUDIT
from tests.governance.conftest import Receiver, serve_webhook
from tests.serve import serve_app

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "zh-CN"}
DESK = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
CONTACT = "13800001234"
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


@dataclass
class Loop:
    server: DemoServer
    earlier: int  # the resident's earlier report, closed
    gps: tuple[float, float]  # where the resident's phone is
    receiver: Receiver  # the urban management bureau's own system


@pytest.fixture(scope="module")
def loop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    """The demo district and users, an earlier report, and the server running its scheduler
    (``cases.deliver`` every second, as production runs it every 30 s)."""
    root = tmp_path_factory.mktemp("resident-loop")
    settings = Settings(data_dir=root / "var", env="test", secret_key="resident-loop-secret",
                        scheduler_enabled=True, delivery_every_seconds=1, log_level="WARNING")
    load_demo(settings, DEMO_PLUGINS)
    earlier = _earlier_report(settings)
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        gps = _gps_of(*_centre(s, "370203005001002"))  # the next cell of grid1's community
    engine.dispose()
    shots = root / "screenshots"
    shots.mkdir()
    with serve_webhook() as receiver, serve_app(settings) as url:
        yield Loop(DemoServer(url, settings, shots), earlier, gps, receiver)


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


def _add_webhook(page: Any, server: DemoServer, target: str) -> str:
    """The district administrator gives the urban management bureau a webhook, by clicks from
    the navigation; returns the signing secret the page shows once."""
    login_page(page, server, "admin", "admin-demo-2026")
    with page.expect_navigation():
        page.click("nav >> text=案件配置")
    with page.expect_navigation():
        page.click("nav[aria-label=案件配置] >> text=推送渠道")
    page.select_option("#department_code", "urban")
    page.select_option("#channel", "webhook")
    page.fill("#target", target)
    with page.expect_navigation():
        page.click("[data-testid=save-channel]")
    row = page.inner_text("[data-testid=channel-urban-webhook]")
    assert "城市管理局" in row and target in row and "Webhook 接口" in row, row
    return page.inner_text("[data-testid=secret]").strip()


def _received(receiver: Receiver, case_id: int, timeout: float = 30.0
              ) -> list[tuple[dict[str, str], bytes]]:
    """The POSTs the department's system received for the case, once there is one (the
    server's scheduler sends them)."""
    deadline = time.monotonic() + timeout
    while True:
        got = [(h, b) for h, b in list(receiver.bodies)
               if json.loads(b)["case"]["id"] == case_id]
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def _check_signed(headers: dict[str, str], body: bytes, secret: str) -> dict[str, Any]:
    """What the department's system checks (as docs/governance.md shows): HMAC-SHA256 with
    the secret over ``<timestamp>.<body>``, and a recent timestamp."""
    stamp = headers["x-citygrowth-timestamp"]
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    assert hmac.compare_digest("sha256=" + mac.hexdigest(), headers["x-citygrowth-signature"])
    assert abs(time.time() - int(stamp)) <= 300
    forged = hmac.new(b"not-the-secret", stamp.encode() + b"." + body, hashlib.sha256)
    assert headers["x-citygrowth-signature"] != "sha256=" + forged.hexdigest()
    assert headers["content-type"] == "application/json"
    assert headers["x-citygrowth-event"] == "case.dispatched"
    message: dict[str, Any] = json.loads(body)
    assert headers["x-citygrowth-delivery"] == str(message["delivery_id"])
    return message


def _badge(page: Any) -> str:
    """The unread count beside 收件箱 in the navigation ("" when there is none)."""
    badge = page.locator("nav a:has-text('收件箱') [data-testid=nav-badge]")
    return str(badge.inner_text()).strip() if badge.count() else ""


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_resident_to_department_and_back_by_clicks(loop_server: Loop, browser: Any) -> None:
    server, earlier, gps = loop_server.server, loop_server.earlier, loop_server.gps
    grid = "370203005001001"  # grid1's cell: the demo grid worker verifies there
    desk = browser.new_context(**DESK)

    # 0. the district administrator connects the bureau's own system (a webhook)
    admin = desk.new_page()
    secret = _add_webhook(admin, server, loop_server.receiver.url)
    assert len(secret) >= 32
    admin.close()
    desk.clear_cookies()

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
    rpage.fill("#contact", CONTACT)
    rpage.screenshot(path=str(server.screenshots / "resident-report-phone.png"), full_page=True)
    with rpage.expect_navigation():
        rpage.click("[data-testid=send-report]")
    assert rpage.locator("[data-testid=confirmation]").is_visible()
    token = rpage.inner_text("[data-testid=tracking-number]").strip()
    case_id = int(re.search(r"#(\d+)", rpage.inner_text("h1")).group(1))  # type: ignore[union-attr]
    assert rpage.inner_text("[data-testid=track-status]") == "已上报"

    # 2. street staff register and dispatch it to the urban management bureau
    spage = desk.new_page()
    login_page(spage, server, "street1", "street1-demo-2026")
    _open_case(spage, server, case_id)
    assert spage.locator("[data-testid=evidence-report] img").count() == 1  # the photo
    _act(spage, "register")
    spage.select_option("[data-testid=dispatch-department]", "urban")
    _act(spage, "dispatch")
    assert spage.inner_text("[data-testid=case-department]") not in ("urban", "—", "")

    # 3. the bureau's own system receives it from the scheduler's cases.deliver, signed, once
    got = _received(loop_server.receiver, case_id)
    assert len(got) == 1, f"the webhook received {len(got)} POSTs for case {case_id}"
    message = _check_signed(*got[0], secret)
    assert message["department"]["code"] == "urban" and message["action"] == "dispatch"
    assert message["case"]["description"] == "小区门口路灯不亮，晚上很黑"
    assert message["case"]["reported_at"].endswith("+08:00")
    assert CONTACT not in got[0][1].decode()  # the reporter's contact stays private

    # 4. the officer sees it in the inbox (unread count in the navigation), opens it: read
    officer_ctx = browser.new_context(**DESK)
    officer = officer_ctx.new_page()
    login_page(officer, server, "urban", "urban-demo-2026")
    assert _badge(officer) == "2"  # the earlier report's dispatch, and this one
    with officer.expect_navigation():
        officer.click("nav >> text=收件箱")
    row = officer.locator(f"[data-testid=inbox-{case_id}]")
    assert "unread" in (row.get_attribute("class") or "") and "新" in row.inner_text()
    assert "路灯" in row.inner_text() and "派遣" in row.inner_text()
    assert LOCAL_TIME.search(row.inner_text())
    officer.screenshot(path=str(server.screenshots / "officer-inbox.png"), full_page=True)
    with officer.expect_navigation():
        row.locator(f"a[href$='/command/cases/{case_id}']").click()
    assert _badge(officer) == "1"  # opened: read at once
    sends = officer.inner_text("[data-testid=case-deliveries]")
    assert "系统内收件箱" in sends and "Webhook 接口" in sends and sends.count("已送达") == 2
    officer.screenshot(path=str(server.screenshots / "officer-case-deliveries.png"),
                       full_page=True)
    with officer.expect_navigation():
        officer.click("nav >> text=收件箱")
    row = officer.locator(f"[data-testid=inbox-{case_id}]")
    assert "unread" not in (row.get_attribute("class") or "") and "新" not in row.inner_text()
    assert _badge(officer) == "1"

    # 5. the officer accepts it and reports it handled, with the after-photo
    with officer.expect_navigation():
        row.locator(f"a[href$='/command/cases/{case_id}']").click()
    _act(officer, "accept")
    officer.fill("[data-testid=handle-note]", "已更换灯泡，恢复照明")
    officer.set_input_files("[data-testid=photo-handle]", files=[_jpeg((250, 240, 120))])
    _act(officer, "handle")
    assert officer.locator("[data-testid=evidence-handle] img").count() == 1

    # 6. the grid worker verifies on site, with a note and a photo
    worker = browser.new_context(**DESK).new_page()
    login_page(worker, server, "grid1", "grid1-demo-2026")
    _open_case(worker, server, case_id)
    worker.fill("[data-testid=verify-note]", "现场核查：路灯已亮")
    worker.set_input_files("[data-testid=photo-verify]", files=[_jpeg((20, 20, 60))])
    _act(worker, "verify")

    # 7. street staff close it
    spage.reload()
    _act(spage, "close")
    assert spage.inner_text("[data-testid=case-status]").strip() == "已结案"

    # 8. the resident reads the reply and sees the photo in local time, rates, reopens another
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
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        done = s.get(Case, case_id)
        again = s.get(Case, earlier)
        assert done is not None and again is not None
        assert (done.status, done.satisfaction, done.area_code) == ("closed", 5, grid)
        assert (again.status, again.reopen_count) == ("registered", 1)
    engine.dispose()
    print(f"screenshots: {server.screenshots}")
    assert len(_received(loop_server.receiver, case_id, timeout=0)) == 1  # sent once
    for ctx in (phone, desk, officer_ctx, worker.context):
        ctx.close()
