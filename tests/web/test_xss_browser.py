"""In Chromium, as the attack: a street, a key project and a case category named
``<img src=x onerror=...>`` (set through the store, as a boundary import or an edit would), and
a resident's report with that description and address, run nowhere — on the home map, the area
page, the big screen, the explorer, the accountability maps, the command center's map and case
page, and the residents' pages (report form, tracking page, reports around). Every chart's tooltip
is shown for the hostile item; the payload must appear as text, no ``<img>`` may be injected,
no handler may run, and the Content-Security-Policy must report no violation on any page (so
every page also works without inline script)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from citygrowth.accountability.projects import apply_project
from citygrowth.accountability.schemas import ProjectIn
from citygrowth.areas.models import Area
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.governance.intake import ReportInput, public_reporter, submit_report
from citygrowth.governance.models import CaseCategory
from citygrowth.governance.taxonomy import ensure_taxonomy
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.browser import DemoServer, login_page
from tests.factories import TEST_AUDIT
from tests.screens.browser_world import build_world
from tests.serve import serve_app

PAYLOAD = '<img src=x onerror="window.cgXss=(window.cgXss||0)+1">'
MARK = "<img src=x onerror="  # what the payload looks like inside JSON too
WATCH = """() => {
  window.cgCsp = [];
  document.addEventListener('securitypolicyviolation',
    e => window.cgCsp.push(e.violatedDirective + ' ' + (e.blockedURI || '')));
}"""
SHOW_TIPS = """(mark) => {
  const shown = [];
  document.querySelectorAll('div').forEach(el => {
    const chart = window.echarts && echarts.getInstanceByDom(el);
    if (!chart) { return; }
    (chart.getOption().series || []).forEach((s, si) => (s.data || []).forEach((d, di) => {
      if (JSON.stringify(d).includes(mark)) {
        chart.dispatchAction({type: 'showTip', seriesIndex: si, dataIndex: di});
        shown.push(el.id || el.dataset.chart || 'chart');
      }
    }));
  });
  return shown;
}"""
TIP_TEXT = """() => Array.from(document.querySelectorAll('div'))
  .filter(d => d.style.zIndex === '9999999').map(d => d.textContent).join(' | ')"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory,
                   sqlite_template: Path) -> Iterator[tuple[DemoServer, str, int, str]]:
    root = tmp_path_factory.mktemp("xss-server")
    shutil.copy(sqlite_template, root / "citygrowth.db")
    settings = Settings(data_dir=root / "var", database_url=f"sqlite:///{root / 'citygrowth.db'}",
                        env="test", secret_key="xss-browser-secret", scheduler_enabled=False,
                        log_level="WARNING")
    streets, _key = build_world(settings)
    street = streets[0]["code"]
    runtime = build_runtime(settings)
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        s.execute(update(Area).where(Area.code == street).values(name_zh=PAYLOAD,
                                                                   name_en=PAYLOAD))
        apply_project(s, ProjectIn(  # on the projects map, with the same name
            code="P-XSS", name_zh=PAYLOAD, name_en=PAYLOAD, department_code="ndrc",
            area_code=street, industry="big_data", stage="construction", total_wan=50_000,
            start_year=2025, end_year=2027, lon=120.37, lat=36.08))
        ensure_taxonomy(s, runtime)
        leaf = s.scalar(select(CaseCategory).where(CaseCategory.parent_code.is_not(None),
                                                   CaseCategory.active.is_(True))
                        .order_by(CaseCategory.code))
        assert leaf is not None
        leaf.name_zh = leaf.name_en = PAYLOAD
        grid = s.scalar(select(Area).where(Area.level == "grid", Area.centroid_lon.is_not(None))
                        .order_by(Area.code))
        assert grid is not None
        category, lon, lat = leaf.code, grid.centroid_lon, grid.centroid_lat
        s.commit()
    engine.dispose()
    with runtime.session() as s:  # a resident's report with the payload as its words
        case = submit_report(s, public_reporter(settings.district_code), ReportInput(
            category_code=category, lon=lon, lat=lat, description=PAYLOAD, address=PAYLOAD,
            source="resident"), runtime=runtime).case
        s.commit()
        case_id, token = case.id, case.token
    runtime.dispose()
    shots = root / "screenshots"
    shots.mkdir()
    with serve_app(settings) as url:
        yield DemoServer(url, settings, shots), street, case_id, token


def _visit(page: Any, url: str, ready: str) -> tuple[list[str], str]:
    page.goto(url)
    page.wait_for_function(ready, timeout=60_000)
    page.wait_for_timeout(300)
    shown = page.evaluate(SHOW_TIPS, MARK)
    page.wait_for_timeout(300)
    return shown, page.evaluate(TIP_TEXT)


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_a_hostile_name_runs_nowhere(hostile_server: tuple[DemoServer, str, int, str],
                                     browser: Any) -> None:
    server, street, case_id, token = hostile_server
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.add_init_script(script=f"({WATCH})()")
    login_page(page, server, "admin", "admin-demo-2026")
    drawn = "() => document.querySelector('canvas') !== null"
    loaded = "() => document.readyState === 'complete'"
    visits = {
        "/": drawn,
        "/areas/370203": drawn,
        "/screen": "() => window.cgScreen && window.cgScreen.refreshes > 0",
        "/explore?indicator=ECO_FIN_INSTITUTIONS":
            "() => window.cgExplore && window.cgExplore.data.map !== undefined",
        "/projects": drawn,
        "/investment": drawn,
        "/command": drawn,  # the command center's district map
        f"/command/cases/{case_id}": loaded,  # the case's words, category and history
        "/report": loaded,  # the category tiles are built from the page by script
        f"/track/{token}": loaded,
        "/around": drawn,  # the public map: markers titled by category
    }
    tipped: dict[str, list[str]] = {}
    for path, ready in visits.items():
        shown, tips = _visit(page, server.url + path, ready)
        tipped[path] = shown
        assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0, path
        assert page.evaluate("() => window.cgXss") is None, path
        assert page.evaluate("() => window.cgCsp") == [], (path, page.evaluate(
            "() => window.cgCsp"))
        # the district map's tooltips name markers only (a street's name is a canvas label)
        if shown and path not in ("/command", "/report"):
            assert PAYLOAD in tips, (path, tips)  # shown as text, not markup
        if ready == loaded:  # the payload is on the page, as text
            assert PAYLOAD in (page.text_content("main") or ""), path
        page.screenshot(path=str(server.screenshots / f"xss{path.replace('/', '_')}.png"))
    # the hostile street is on every area map and the hostile project on the projects map
    assert all(tipped[p] for p in ("/screen", "/explore?indicator=ECO_FIN_INSTITUTIONS",
                                   "/projects", "/around")), tipped
    assert dialogs == [] and not [e for e in errors if "Content Security Policy" in e], errors
    page.close()

