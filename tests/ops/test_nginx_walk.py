"""The deployment walked as a district runs it: real nginx (the site ``citygrowth deploy nginx``
renders) in front of ``citygrowth serve --workers 2``, a ``citygrowth scheduler`` process, on
PostgreSQL; in Chromium, at ``/`` and below ``/citygrowth/``: log in, the home page, the big
screen with its event stream open, an upload through the upload page, the big screen redrawn
by the upload's event and by the index run the scheduler makes; and a resident on a phone,
not logged in: from the home page to the report form, a category, a pin on the map, a photo,
the tracking page with the photo, reports around and "my reports" — all through nginx, with
no request failing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy import create_engine, func, select, text

from citygrowth.areas.models import Area
from citygrowth.auth.actor import system_actor
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.governance.taxonomy import ensure_taxonomy
from citygrowth.index.models import IndexRun
from citygrowth.index.service import compute_index
from citygrowth.ingest.service import load_observations
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.browser import load_demo
from tests.conftest import POSTGRES_URL, needs
from tests.factories import TEST_AUDIT
from tests.governance.test_browser_resident import PHONE, _jpeg, _tap_grid_cell
from tests.ops.test_workers import JOBS_OFF, free_port

NGINX = Path("/usr/sbin/nginx")
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "admin-demo-2026"
JOBS = {"index.recompute": "every 1s", **{j: "off" for j in JOBS_OFF}}


@dataclass
class World:
    settings: Settings
    env: dict[str, str]
    root: Path


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    return {**os.environ, "CITYGROWTH_DATA_DIR": str(settings.data_dir),
            "CITYGROWTH_DATABASE_URL": settings.resolved_database_url,
            "CITYGROWTH_SECRET_KEY": "walk-secret", "CITYGROWTH_ENV": "test",
            "CITYGROWTH_LOG_LEVEL": "WARNING", "CITYGROWTH_SCHEDULER_ENABLED": "false",
            "CITYGROWTH_SCHEDULER_SCHEDULES": json.dumps(JOBS), **extra}


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "citygrowth.cli", *args], cwd=ROOT, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, log.read_text(errors="replace")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer"
        time.sleep(0.3)


def _frame(streets: list[str], year: str, base: float) -> pd.DataFrame:
    rows = [(code, s, year, base + i + j) for i, code in enumerate(
        ("ECO_FIN_INSTITUTIONS", "IND_LISTED_COMPANIES")) for j, s in enumerate(streets)]
    return pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    needs("PostgreSQL", bool(POSTGRES_URL), "set CITYGROWTH_TEST_POSTGRES_URL")
    needs("nginx", NGINX.exists(), str(NGINX))
    root = tmp_path_factory.mktemp("walk")
    name = f"cg_walk_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    settings = Settings(data_dir=root / "var", database_url=url, env="test",
                        secret_key="walk-secret", scheduler_enabled=False)
    load_demo(settings)  # the demo district and its users
    runtime = build_runtime(settings)
    with runtime.session() as s:
        ensure_taxonomy(s, runtime)
        s.commit()
        streets = sorted(s.scalars(select(Area.code).where(Area.level == "street")))
    for year, base in (("2023", 10.0), ("2024", 12.0)):
        with runtime.session() as s:
            load_observations(s, runtime, system_actor("walk"), _frame(streets, year, base),
                              dataset="finance", source="walk")
    with runtime.session() as s:
        compute_index(s, runtime, system_actor("walk"), levels=("street",))
    runtime.dispose()
    env = _env(settings)
    sched = _start(["scheduler"], env, root / "scheduler.log")
    try:
        yield World(settings, env, root)
    finally:
        _stop(sched)
        sys.stderr.write((root / "scheduler.log").read_text(errors="replace")[-3000:])
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Site:
    base: str  # what the browser opens: nginx's address and the mount
    streets: list[str]


@pytest.fixture(params=["", "/citygrowth"], ids=["root", "subpath"])
def site(request: pytest.FixtureRequest, world: World) -> Iterator[Site]:
    mount: str = request.param
    tag = mount.strip("/") or "root"
    web_port, nginx_port = free_port(), free_port()
    env = {**world.env, "CITYGROWTH_ROOT_PATH": mount}
    folder = world.root / f"nginx-{tag}"
    (folder / "logs").mkdir(parents=True)
    # nginx's workers keep larger bodies, such as a resident's photos, in temporary files
    # here; started as root they would run as nobody, who cannot enter pytest's folders
    user = "user root;\n" if os.geteuid() == 0 else ""
    site_conf = folder / "site.conf"
    r = subprocess.run([sys.executable, "-m", "citygrowth.cli", "deploy", "nginx", "--no-tls",
                        "--listen", f"127.0.0.1:{nginx_port}", "--upstream",
                        f"127.0.0.1:{web_port}", "--server-name", "localhost",
                        "--out", str(site_conf)], cwd=ROOT, env=env, capture_output=True,
                       check=False)
    assert r.returncode == 0, r.stderr
    (folder / "nginx.conf").write_text(
        f"{user}pid {folder}/nginx.pid;\nerror_log {folder}/logs/error.log;\n"
        f"events {{}}\nhttp {{\n  include /etc/nginx/mime.types;\n"
        f"  access_log {folder}/logs/access.log;\n  client_body_temp_path {folder};\n"
        f"  proxy_temp_path {folder};\n  include {site_conf};\n}}\n", encoding="utf-8")
    web = _start(["serve", "--workers", "2", "--host", "127.0.0.1", "--port", str(web_port)],
                 env, folder / "web.log")
    nginx = subprocess.Popen([str(NGINX), "-p", str(folder), "-c", str(folder / "nginx.conf"),
                              "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                             stderr=(folder / "logs" / "stderr.log").open("wb"))
    base = f"http://127.0.0.1:{nginx_port}{mount}"
    try:
        _wait_http(f"{base}/healthz", web, folder / "web.log")
        engine = make_engine(world.settings.resolved_database_url)
        with make_sessionmaker(engine, TEST_AUDIT)() as s:
            streets = sorted(s.scalars(select(Area.code).where(Area.level == "street")))
        engine.dispose()
        yield Site(base, streets)
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(10)
        _stop(web)
        sys.stderr.write((folder / "web.log").read_text(errors="replace")[-3000:])


def _index_runs(world: World) -> int:
    engine = make_engine(world.settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        n = int(s.scalar(select(func.count()).select_from(IndexRun)) or 0)
    engine.dispose()
    return n


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_walk_through_nginx(site: Site, world: World, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
    failed: list[str] = []
    context.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}")
               if "/api/events" not in r.url else None)
    context.on("response", lambda r: failed.append(f"{r.url} {r.status}")
               if r.status >= 400 else None)
    page = context.new_page()
    page.goto(f"{site.base}/login?next=/")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("form[data-testid=login-form] button[type=submit]")
    assert page.url.rstrip("/") == site.base.rstrip("/") or page.url == site.base + "/"
    page.wait_for_selector("#street-map canvas")
    tag = site.base.rsplit("/", 1)[-1] if site.base.endswith("citygrowth") else "root"
    shots = world.root / "screenshots"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / f"home-{tag}.png"))

    # the big screen, its event stream open through nginx
    screen = context.new_page()
    screen.goto(f"{site.base}/screen")
    screen.wait_for_function("() => Number(document.getElementById('screen').dataset"
                             ".refreshes || 0) >= 1", timeout=60_000)
    before = int(screen.locator("#screen").get_attribute("data-refreshes") or 0)
    runs = _index_runs(world)

    # an upload through the upload page (a new year of the finance bureau's data)
    page.goto(f"{site.base}/data/upload")
    page.select_option("#dataset", "finance")
    csv = world.root / f"finance-{tag}.csv"
    year = "2025" if tag == "root" else "2022"
    csv.write_text("indicator,area_code,period,value\n" + "".join(
        f"{code},{s},{year},{10 + i + j}\n" for i, code in enumerate(
            ("ECO_FIN_INSTITUTIONS", "IND_LISTED_COMPANIES"))
        for j, s in enumerate(site.streets)), encoding="utf-8")
    page.set_input_files("#file", str(csv))
    page.click("form[data-testid=upload-form] button[type=submit]")
    page.wait_for_selector("[data-testid=upload-ok]", timeout=60_000)
    page.screenshot(path=str(shots / f"upload-{tag}.png"))

    # the load's event and the scheduler's index run reach the screen, whichever worker
    # holds its stream and wherever the run was made
    deadline = time.monotonic() + 90
    while _index_runs(world) <= runs:
        assert time.monotonic() < deadline, "the scheduler made no index run"
        time.sleep(0.5)
    screen.wait_for_function(f"() => Number(document.getElementById('screen').dataset"
                             f".refreshes || 0) >= {before + 2}", timeout=60_000)
    time.sleep(3)
    assert _index_runs(world) == runs + 1  # one load, one run
    screen.screenshot(path=str(shots / f"screen-{tag}.png"))
    assert not failed, failed
    context.close()
    _resident_walk(site, browser, shots / f"resident-{tag}")


def _resident_walk(site: Site, browser: Any, shots: Path) -> None:
    """A resident on a phone, not logged in, reports a broken street light with a pin and a
    photo, follows it, and finds it among the reports around and under "my reports"."""
    phone = browser.new_context(**PHONE)
    failed: list[str] = []
    phone.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
    phone.on("response", lambda r: failed.append(f"{r.url} {r.status}")
             if r.status >= 400 else None)
    page = phone.new_page()
    page.goto(f"{site.base}/")
    with page.expect_navigation():
        page.click("[data-testid=report-cta]")
    assert page.url == f"{site.base}/report"
    page.click("[data-testid=major-tiles] button:has-text('公用设施')")
    page.click("[data-testid=cat-C0105]")
    _tap_grid_cell(page, "370203005001001")
    page.wait_for_function("() => document.getElementById('place').dataset.grid === "
                           "'370203005001001'")
    page.set_input_files("#photo-input", files=[_jpeg((200, 120, 40))])
    page.wait_for_selector("[data-testid=photo-previews] img")
    page.fill("#description", "路灯不亮")
    page.screenshot(path=f"{shots}-report.png", full_page=True)
    with page.expect_navigation():
        page.click("[data-testid=send-report]")
    assert page.url.startswith(f"{site.base}/track/"), (page.url, failed)
    assert page.locator("[data-testid=confirmation]").is_visible()
    token = page.inner_text("[data-testid=tracking-number]").strip()
    # the photo, through nginx and under the mount, drawn
    page.wait_for_function("() => [...document.querySelectorAll('main img')]"
                           ".some(i => i.complete && i.naturalWidth > 0)")
    srcs = page.eval_on_selector_all("main img", "els => els.map(e => e.src)")
    assert any(src.startswith(f"{site.base}/track/{token}/photos/") for src in srcs), srcs
    page.screenshot(path=f"{shots}-track.png", full_page=True)
    page.goto(f"{site.base}/around")
    page.wait_for_selector("[data-testid=around-map] canvas")
    page.goto(f"{site.base}/my/reports")
    with page.expect_navigation():
        page.click(f"[data-testid=my-reports] a[href$='/track/{token}']")
    assert page.url == f"{site.base}/track/{token}"
    assert page.inner_text("[data-testid=track-status]").strip()
    assert not failed, failed
    phone.close()
