"""In Chromium, by clicks: a science officer marks a project milestone done, records an
approval (受理 then 办结) and hands a lead to the industry bureau, which accepts it; the
leader's overview shows each change. The urban officer's progress report moves T-CHOKE on its
target page. Screenshots (1440×900, and a phone) go to the demo server's screenshot folder, or
to ``$CITYGROWTH_SCREENSHOTS`` when set."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from citygrowth.auth.models import RoleGrant, User
from citygrowth.auth.passwords import hash_password
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.settings import Settings
from tests import browser as browser_fixtures
from tests.browser import DEMO_PLUGINS, DemoServer, load_demo, login_page
from tests.factories import TEST_AUDIT
from tests.serve import serve_app

browser = browser_fixtures.browser
OFFICERS = {"sci": "science", "ind": "industry"}
PASSWORD = "desk-officer-2026"
WIDE = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def desk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    root = tmp_path_factory.mktemp("desk-server")
    settings = Settings(data_dir=root / "var", env="test", secret_key="desk-test-secret",
                        scheduler_enabled=False, log_level="WARNING")
    load_demo(settings, (*DEMO_PLUGINS, "citygrowth.accountability.plugin"))
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        for name, dept in OFFICERS.items():
            user = User(username=name, display_name=f"{dept} officer",
                        password_hash=hash_password(PASSWORD))
            user.grants.append(RoleGrant(role="department_officer", area_code="370203",
                                         department_code=dept))
            s.add(user)
        s.commit()
    engine.dispose()
    shots = Path(os.environ.get("CITYGROWTH_SCREENSHOTS", root / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    with serve_app(settings) as url:
        yield DemoServer(url, settings, shots)


def _shot(page: Any, server: DemoServer, name: str) -> None:
    path = server.screenshots / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    print(f"screenshot: {path}")


def _nav(page: Any, text: str) -> None:
    with page.expect_navigation():
        page.locator("header nav").get_by_role("link", name=text).click()


def _submit(page: Any, form: str) -> None:
    """Click the form's button; the page comes back with the saved note."""
    with page.expect_navigation():
        page.locator(f"[data-testid=form-{form}] button[type=submit]").click()
    page.wait_for_selector("[data-testid=saved]")


def _logout(page: Any) -> None:
    with page.expect_navigation():
        page.locator(".userbox button[type=submit]").click()


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_officers_work_the_desk_and_the_leader_sees_it(desk_server: DemoServer,
                                                       browser: Any) -> None:
    page = browser.new_page(viewport=WIDE, locale="zh-CN")
    login_page(page, desk_server, "sci", PASSWORD, "/accountability")

    # 1. a milestone of one of science's projects, done today
    _nav(page, "重点项目")
    row = page.locator("[data-testid=projects] tbody tr", has_text="科学技术局").first
    name = row.locator("a").inner_text()
    with page.expect_navigation():
        row.locator("a").click()
    form = page.locator("[data-testid=form-milestone_done]")
    milestone = form.locator("select[name=milestone_id] option").first.inner_text()
    _submit(page, "milestone_done")
    assert "节点已标记完成" in page.locator("[data-testid=saved]").inner_text()
    done = page.locator("[data-testid=milestones] tr", has_text=milestone.split("（")[0])
    assert re.search(r"\d{4}-\d{2}-\d{2}", done.locator("[data-testid=done-on]").inner_text()), \
        (page.url, page.locator("[data-testid=milestones]").inner_text())
    _shot(page, desk_server, "project-page")

    # 2. an approval: 受理 on the approvals page, then 办结 on the item's page
    _nav(page, "责任落实")
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name="项目审批").first.click()
    page.fill("#accept-name_zh", "海洋生物医药研发基地备案")
    page.select_option("#accept-area_code", index=1)
    _submit(page, "accept")
    with page.expect_navigation():
        page.locator("[data-testid=pending] a", has_text="海洋生物医药研发基地备案").click()
    page.select_option("#complete-outcome", "approved")
    _submit(page, "complete")
    assert page.locator("[data-testid=approval-status]").inner_text() == "予以批准"
    assert page.locator("[data-testid=working-days]").inner_text().startswith("0 /")

    # 3. a lead held by science, handed to the industry bureau
    _nav(page, "招商服务平台")
    lead = page.locator("[data-testid=leads] tbody tr", has_text="科学技术局").filter(
        has_not_text="已关闭").first
    title = lead.locator("a").inner_text()
    with page.expect_navigation():
        lead.locator("a").click()
    page.select_option("#handover-department_code", label="工业和信息化局")
    _submit(page, "handover")
    assert "工业和信息化局" in page.locator("[data-testid=offered]").inner_text()
    _logout(page)

    # 4. the industry bureau accepts it from its desk
    login_page(page, desk_server, "ind", PASSWORD, "/investment")
    _nav(page, "招商服务平台")
    offer = page.locator("[data-testid=handovers] tr", has_text=title)
    with page.expect_navigation():
        offer.locator("[data-testid=answer-handover]").click()
    _submit(page, "accept_lead")
    assert page.locator("[data-testid=holder]").inner_text() == "工业和信息化局"
    _nav(page, "招商服务平台")
    _shot(page, desk_server, "investment-desk")
    _logout(page)

    # 5. the leader's overview: the feed names each change, the counts moved
    login_page(page, desk_server, "admin", "admin-demo-2026", "/accountability")
    _nav(page, "责任落实")
    feed = page.locator("[data-testid=feed]").inner_text()
    assert f"节点“{milestone.split('（')[0]}”已于" in feed and name in feed
    assert "已受理" in feed and "已办结" in feed and "海洋生物医药研发基地备案" in feed
    assert "工业和信息化局已接收移交" in feed and "移交工业和信息化局" in feed and title in feed
    counts = page.locator("[data-testid=desk-counts]").inner_text()
    assert re.search(r"本月办结 [1-9]\d* 件", counts)
    _shot(page, desk_server, "overview")
    page.close()


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_progress_report_moves_the_target_page(desk_server: DemoServer, browser: Any) -> None:
    page = browser.new_page(viewport=WIDE, locale="zh-CN")
    login_page(page, desk_server, "urban", "urban-demo-2026", "/targets")
    _nav(page, "责任落实")
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name="全部目标任务").click()
    with page.expect_navigation():
        page.locator("[data-testid=targets] a", has_text="打通交通堵点23处").click()
    before = page.locator("h1 [data-status]").get_attribute("data-status")
    page.fill("#p-value", "22")
    with page.expect_navigation():
        page.locator("[data-testid=progress-form] button[type=submit]").click()
    assert "22 处" in page.locator("[data-testid=latest]").inner_text()
    after = page.locator("h1 [data-status]").get_attribute("data-status")
    assert before == "red" and after in ("green", "amber")
    page.wait_for_selector("#acc-target-chart canvas")
    page.wait_for_timeout(1200)  # let the chart's opening animation finish for the picture
    _shot(page, desk_server, "target-after-report")
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    login_page(phone, desk_server, "sci", PASSWORD, "/projects")
    with phone.expect_navigation():
        phone.locator("[data-testid=projects] tbody tr", has_text="科学技术局").first.locator(
            "a").click()
    phone.screenshot(path=str(desk_server.screenshots / "project-phone.png"), full_page=True)
    phone.close()
    page.close()
