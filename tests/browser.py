"""A real citygrowth server for browser tests (Playwright driving /usr/bin/chromium).

Use the session-scoped fixtures from ``tests/web/conftest.py`` — or, in another test folder,
import them into that folder's ``conftest.py``::

    from tests.browser import browser, demo_server  # noqa: F401  (fixtures)

    @pytest.mark.browser
    @pytest.mark.xdist_group("browser")
    def test_something(demo_server, browser):
        page = browser.new_page()
        login_page(page, demo_server, "street1", "street1-demo-2026")
        page.goto(demo_server.url + "/cases")

``demo_server`` migrates a temporary data folder, runs the ``areas`` and ``users`` demo steps
(the demo district and one user per role; ``citygrowth users demo-logins`` lists them; a
folder that needs more demo data makes its own server fixture with
``load_demo(settings, (*DEMO_PLUGINS, "citygrowth.<domain>.plugin"))``) and
serves ``create_app`` with uvicorn on a loopback port in a child process (``tests/serve.py``).
``browser`` launches Chromium once per test worker, and calls ``needs("Chromium", …)`` first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from citygrowth.settings import Settings
from tests.conftest import needs
from tests.serve import serve_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@dataclass
class DemoServer:
    url: str
    settings: Settings
    screenshots: Path


DEMO_PLUGINS = ("citygrowth.areas.plugin", "citygrowth.auth.plugin")


def load_demo(settings: Settings, plugins: tuple[str, ...] = DEMO_PLUGINS) -> None:
    """Run the ``citygrowth demo`` steps of the named plugin modules (in dependency order)
    against ``settings``: by default the demo district's areas and the demo users."""
    import importlib

    from citygrowth.auth.actor import system_actor
    from citygrowth.cli.main import ordered_demo_steps
    from citygrowth.db import upgrade
    from citygrowth.runtime import build_runtime

    settings.ensure_dirs()
    upgrade(settings.resolved_database_url)
    runtime = build_runtime(settings)
    steps = [s for name in plugins
             for s in importlib.import_module(name).citygrowth_demo_steps()]
    for step in ordered_demo_steps(steps):
        step.run(runtime, system_actor("demo"))
    runtime.dispose()


@contextmanager
def serve_demo(root: Path, secret: str = "browser-test-secret",
               prepare: Callable[[Settings], object] | None = None) -> Iterator[DemoServer]:
    """The demo areas and users in ``root``, then ``prepare(settings)`` (more data, keys …),
    served in a child process. For a folder whose tests change the store, so that they do not
    share ``demo_server``."""
    settings = Settings(data_dir=root / "var", env="test", secret_key=secret,
                        scheduler_enabled=False, log_level="WARNING")
    load_demo(settings)
    if prepare is not None:
        prepare(settings)
    shots = root / "screenshots"
    shots.mkdir()
    with serve_app(settings) as url:
        yield DemoServer(url, settings, shots)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with serve_demo(tmp_path_factory.mktemp("demo-server")) as server:
        yield server


# One Chromium per test process, whichever folder's ``browser`` fixture asks first: a second
# Playwright (sync API) cannot start while one is running in the same thread.
_running: list[Any] = []


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    needs("Chromium", CHROMIUM.exists(), str(CHROMIUM))
    if _running:
        yield _running[0]
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        _running.append(b)
        try:
            yield b
        finally:
            _running.clear()
            b.close()


def login_page(page: Any, server: DemoServer, username: str, password: str,
               next_path: str = "/") -> None:
    """Log in through the real form and wait for the page ``next_path`` to load."""
    page.goto(f"{server.url}/login?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("form[data-testid=login-form] button[type=submit]")
