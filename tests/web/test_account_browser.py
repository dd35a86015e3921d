"""In Chromium on a phone (390×844): a street commander opens their account from the header,
is told a common password will not do, changes it, stays logged in on this phone — and is
logged out on the other device; logging out there ends this phone's session as well."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import DemoServer, login_page, serve_demo

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "is_mobile": True,
         "has_touch": True}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """A server of its own: the test changes a demo user's password."""
    with serve_demo(tmp_path_factory.mktemp("account-server"), "account-browser") as s:
        yield s


def _logged_in_as(page: Any) -> str | None:
    who = page.locator(".userbox .who")
    return who.inner_text() if who.count() else None


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_change_password_on_a_phone(server: DemoServer, browser: Any) -> None:
    phone = browser.new_context(**PHONE)
    desk = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page, other = phone.new_page(), desk.new_page()
    login_page(other, server, "street1", "street1-demo-2026")
    login_page(page, server, "street1", "street1-demo-2026")
    with page.expect_navigation():
        page.click(".userbox .who")
    assert page.url.endswith("/account")
    page.fill("#current_password", "street1-demo-2026")
    page.fill("#new_password", "password")
    page.fill("#confirm", "password")
    with page.expect_navigation():
        page.click("form[data-testid=password-form] button[type=submit]")
    assert "最常见的 10,000 个密码" in page.locator("[data-testid=password-problems]").inner_text()
    page.screenshot(path=str(server.screenshots / "account-refused-phone.png"), full_page=True)
    page.fill("#current_password", "street1-demo-2026")
    page.fill("#new_password", "harbour-kite-37")
    page.fill("#confirm", "harbour-kite-37")
    with page.expect_navigation():
        page.click("form[data-testid=password-form] button[type=submit]")
    assert page.locator("[data-testid=password-changed]").is_visible()
    page.screenshot(path=str(server.screenshots / "account-changed-phone.png"), full_page=True)
    page.goto(server.url + "/")
    assert _logged_in_as(page) is not None  # this phone goes on
    other.goto(server.url + "/")
    assert _logged_in_as(other) is None  # the other device was logged out
    login_page(other, server, "street1", "harbour-kite-37")
    with other.expect_navigation():
        other.click(".userbox form button[type=submit]")  # log out there …
    page.goto(server.url + "/")
    assert _logged_in_as(page) is None  # … ends this phone's session too
    phone.close()
    desk.close()
