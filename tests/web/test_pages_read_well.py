"""Every page reads well: names, not codes; the reader's language; the district's local time.

The test builds the full demo district (every ``citygrowth demo`` step) plus a case taken
through the whole loop with photos, a reopened one and a refused data load, then walks every
page of the app — each GET route that is not an API, a feed or a file, found by walking the
app's routers, so a new page joins by itself — as every demo login and anonymously, in zh-CN
and in English. In what a person reads (text, and the title, alt, placeholder and aria-label
attributes; not scripts) it fails on:

* a code shown without its name: an area code (6–15 digits), a case category code (E0101) or
  a department code not next to the name it stands for (same table row, list item, paragraph
  …), and a case state, lifecycle action or department code shown raw;
* an English state name (Reported, Closed …) on a Chinese page;
* an unformatted ``{placeholder}``;
* a UTC-looking time: ``2026-12-07T06:00`` or ``+00:00`` (pages show local time, e.g.
  ``2026-12-07 14:00``).

A path parameter the walk cannot fill fails the test: teach ``PathFiller`` how to fill it.
"""

from __future__ import annotations

import importlib
import io
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from PIL import Image
from sqlalchemy import func, select, text

from citygrowth.app import create_app
from citygrowth.areas.models import Area
from citygrowth.auth.demo import DemoLogin, demo_logins
from citygrowth.auth.models import Department
from citygrowth.catalog.datasets import Dataset, list_datasets
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.governance.lifecycle import STATUSES, TABLE
from citygrowth.governance.models import Case, CaseCategory
from citygrowth.plugins import DEFAULT_PLUGINS
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.browser import load_demo
from tests.factories import TEST_AUDIT
from tests.web.login import form_token

pytestmark = pytest.mark.xdist_group("every-page")

LOCALES = ("zh_CN", "en")
NOT_PAGES = ("/api", "/open311", "/sdmx", "/media", "/static", "/docs", "/redoc", "/openapi",
             "/healthz", "/dataset/", "/catalog.jsonld", "/data/templates/", "/m/sw.js")

PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
UTC_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\+00:00")
AREA_CODE = re.compile(r"(?<![\d.])\d{6}(?:\d{3}){0,3}(?![\d.])")
CATEGORY_CODE = re.compile(r"(?<![A-Za-z0-9_])[CE]\d{2}(?:\d{2})?(?![A-Za-z0-9_])")
WORD = re.compile(r"(?<![\w.\-/:@])[a-z][a-z_]+(?![\w.\-/:@])")
ROW = {"tr", "li", "p", "dd", "option", "label", "h1", "h2", "h3", "h4", "caption",
       "summary", "legend", "button", "figcaption"}
READ_ATTRS = ("title", "alt", "placeholder", "aria-label")
#: Path parameters filled with the first row of a table (a new page's id joins here).
FIRST_ROW = {"target_id": ("acc_targets", "id"), "briefing_id": ("analysis_briefings", "id"),
             "rule_id": ("case_dispatch_rules", "id"), "item_id": ("acc_approvals", "id"),
             "lead_id": ("acc_leads", "id"), "project_id": ("acc_projects", "id"),
             "load_id": ("analysis_anomalies", "load_id"),
             "task_id": ("case_help_tasks", "id"), "helper_id": ("case_helpers", "id")}


# --- the store -----------------------------------------------------------------------------

@dataclass
class Store:
    settings: Settings
    logins: list[DemoLogin]
    areas: dict[str, tuple[str, ...]]
    categories: dict[str, tuple[str, ...]]
    departments: dict[str, tuple[str, ...]]
    fill: dict[str, str] = field(default_factory=dict)


def _photo() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 120, 200)).save(buf, "JPEG")
    return buf.getvalue()


def _login(client: TestClient, who: DemoLogin) -> None:
    r = client.post("/login", data={"username": who.username, "password": who.password,
                                    "csrf_token": form_token(client), "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    client.headers["X-CSRF-Token"] = client.get("/api/auth/csrf").json()["csrf_token"]


def _act(client: TestClient, case_id: int, action: str, **fields: str) -> None:
    files = {"photo": ("p.jpg", _photo(), "image/jpeg")} if action in (
        "handle", "verify") else None
    r = client.post(f"/command/cases/{case_id}/act", data={"action": action, **fields},
                    files=files, follow_redirects=False)
    assert r.status_code == 303, r.text


def _loop(app: Any, by: dict[str, DemoLogin], grid: tuple[float, float]) -> tuple[int, str]:
    """A resident's report through the whole loop, with photos at report, 处置反馈 and 核查;
    a second one closed and reopened. Returns the first case's id and tracking code."""
    made = []
    for n in range(2):
        with TestClient(app) as c:
            _login(c, by["resident"])
            r = c.post("/report", data={
                "category_code": "C0105", "lon": str(grid[0]), "lat": str(grid[1]),
                "description": f"路灯不亮 {n}", "contact": "13800000000",
                "idempotency_key": f"every-page-{n}-key"},
                files={"photo": ("p.jpg", _photo(), "image/jpeg")}, follow_redirects=False)
            assert r.status_code == 303, r.text
            token = r.headers["location"].split("/track/")[1].split("?")[0]
            case_id = int(c.get(f"/open311/v2/tokens/{token}.json").json()[0]
                          ["service_request_id"])
            made.append((case_id, token))
        for who, action, extra in (
                ("street1", "register", {}), ("street1", "dispatch", {"department_code": "urban"}),
                ("urban", "accept", {}), ("urban", "handle", {"note": "已更换灯泡"}),
                ("grid1", "verify", {"note": "现场已亮"}), ("street1", "close", {})):
            with TestClient(app) as c:
                _login(c, by[who])
                _act(c, case_id, action, **extra)
    with TestClient(app) as c:
        assert c.post(f"/track/{made[0][1]}/rate", data={
            "rating": "4", "csrf_token": form_token(c, f"/track/{made[0][1]}")}).is_success
        assert c.post(f"/track/{made[1][1]}/reopen", data={
            "note": "又不亮了", "csrf_token": form_token(c, f"/track/{made[1][1]}")}).is_success
    return made[0]


def _refused_load(app: Any, admin: DemoLogin, ds: Dataset) -> None:
    """A department's upload with an unknown area code, kept in the load history."""
    with TestClient(app) as c:
        _login(c, admin)
        r = c.post(f"/api/ingest/{ds.code}", json=[{
            "indicator": ds.indicators[0], "area_code": "370299999", "period": "2025",
            "value": 1}])
        assert r.status_code == 422, r.text


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("every-page")
    settings = Settings(data_dir=root / "var", env="test", secret_key="every-page-secret",
                        scheduler_enabled=False, log_level="WARNING")
    load_demo(settings, tuple(p for p in DEFAULT_PLUGINS if hasattr(
        importlib.import_module(p), "citygrowth_demo_steps")))
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        logins = [d for d in demo_logins(s, settings.district_code) if d.password]
        areas = {a.code: (a.name_zh, a.name_en) for a in s.scalars(select(Area))}
        categories = {c.code: (c.name_zh, c.name_en) for c in s.scalars(select(CaseCategory))}
        departments = {d.code: (d.name_zh, d.name_en) for d in s.scalars(select(Department))}
        grid = next(d.area_code for d in logins if d.role == "grid_worker")
        lon, lat = s.execute(text("SELECT avg(lon), avg(lat) FROM cases WHERE area_code = :g"),
                             {"g": grid}).one()
        street = next(d.area_code for d in logins if d.role == "street_commander")
        first = {name: str(s.scalar(text(f"SELECT min({col}) FROM {table}")))  # noqa: S608
                 for name, (table, col) in FIRST_ROW.items()}
        assert s.scalar(select(func.count(Case.id))) > 1000
    engine.dispose()
    runtime = build_runtime(settings)
    datasets = list_datasets(runtime.frameworks.load("default"))
    runtime.dispose()
    for ds in datasets:
        departments.setdefault(ds.code, ())
        departments[ds.code] += (ds.name_zh, ds.name_en)
    app = create_app(settings)
    by = {d.username: d for d in logins}
    with TestClient(app):
        case_id, token = _loop(app, by, (lon, lat))
        _refused_load(app, by["admin"], datasets[0])
    fill = {"case_id": str(case_id), "token": token, "street": street, **first}
    yield Store(settings, logins, areas, categories, departments, fill)


# --- the walk ------------------------------------------------------------------------------

def page_paths(app: Any) -> list[str]:
    """Every GET route that is a page (not an API, feed or file), walking the routers."""
    def walk(routes: list[Any]) -> Iterator[Any]:
        for r in routes:
            inner = getattr(r, "original_router", None)
            yield from walk(list(inner.routes)) if inner is not None else [r]
    paths = {r.path for r in walk(list(app.routes)) if "GET" in (getattr(r, "methods", None)
                                                                   or ())}
    return sorted(p for p in paths if not p.startswith(NOT_PAGES) and "/photos/" not in p
                  and not p.endswith((".json", ".csv", ".xlsx", ".{fmt}", ".geojson",
                                      ".jsonld")))


class PathFiller:
    """Real values for path parameters, from the store."""

    def __init__(self, store: Store) -> None:
        self.values = store.fill

    def __call__(self, path: str) -> str:
        out = path
        for name in re.findall(r"\{(\w+)\}", path):
            out = out.replace("{" + name + "}", self.value(path, name))
        return out

    def value(self, path: str, name: str) -> str:
        if name == "code":
            if path.startswith("/admin/cases/categories/"):
                return "E0101"
            if path.startswith("/accountability/departments/"):
                return "urban"
            return self.values["street"]
        if name in self.values:
            return self.values[name]
        raise AssertionError(f"teach PathFiller how to fill {{{name}}} of {path}")


def _row_text(el: Any) -> str:
    e = el
    while e is not None and (not isinstance(e.tag, str) or e.tag not in ROW):
        e = e.getparent()
    return str((e if e is not None else el).text_content())


def _texts(doc: Any) -> Iterator[tuple[Any, str]]:
    for bad in doc.xpath("//script|//style|//template"):
        bad.drop_tree()
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        if el.text and el.text.strip():
            yield el, " ".join(el.text.split())
        for attr in READ_ATTRS:
            if el.get(attr):
                yield el, el.get(attr)
        parent = el.getparent()
        if el.tail and el.tail.strip() and parent is not None:
            yield parent, " ".join(el.tail.split())


@dataclass
class Reader:
    """What a person must not read on a page, given the store's codes and names."""

    store: Store
    raw: set[str] = field(init=False)
    english_states: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        self.raw = set(STATUSES) | set(TABLE) | set(self.store.departments)
        self.english_states = re.compile(r"\b(" + "|".join(STATUSES.values()) + r")\b")

    @staticmethod
    def _named(names: tuple[str, ...], el: Any) -> bool:
        row = _row_text(el)
        return any(n and n in row for n in names)

    def problems(self, body: str, locale: str) -> Iterator[str]:
        doc = lxml_html.fromstring(body)
        zh = locale == "zh_CN"
        for el, t in _texts(doc):
            if m := PLACEHOLDER.search(t):
                yield f"unformatted {m.group()} in {t[:70]!r}"
            if m := UTC_TIME.search(t):
                yield f"UTC-looking time {m.group()} in {t[:70]!r}"
            for m in AREA_CODE.finditer(t):
                if m.group() in self.store.areas and not self._named(
                        self.store.areas[m.group()], el):
                    yield f"area code {m.group()} without its name in {_row_text(el)[:70]!r}"
            for m in CATEGORY_CODE.finditer(t):
                if m.group() in self.store.categories and not self._named(
                        self.store.categories[m.group()], el):
                    yield f"category code {m.group()} without its name in {t[:70]!r}"
            words = [t] if t in self.raw else [w for w in WORD.findall(t) if w in STATUSES] \
                if zh else []
            for w in words:
                if not (w in self.store.departments and self._named(
                        self.store.departments[w], el)):
                    yield f"raw code {w!r} in {t[:70]!r}"
            english = el.xpath("ancestor-or-self::*[@lang][1]/@lang")
            if zh and not (english and english[0].startswith("en")):
                if m := self.english_states.search(t):
                    yield f"English state name {m.group()!r} on a Chinese page in {t[:70]!r}"


def _walk(app: Any, store: Store, login: DemoLogin | None) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    fill, reader = PathFiller(store), Reader(store)
    with TestClient(app) as client:
        if login is not None:
            _login(client, login)
        for path in page_paths(app):
            url = fill(path)
            for locale in LOCALES:
                r = client.get(url, params={"lang": locale}, headers={"Accept": "text/html"})
                assert r.status_code < 500, f"{url} answered {r.status_code}"
                if not r.headers.get("content-type", "").startswith("text/html"):
                    continue
                for problem in reader.problems(r.text, locale):
                    found[f"{path} ({locale}, {r.status_code})"].add(problem)
    return found


@pytest.fixture(scope="module")
def app(store: Store) -> Any:
    return create_app(store.settings)


def test_the_walk_reaches_every_kind_of_page(app: Any, store: Store) -> None:
    paths = page_paths(app)
    assert {"/", "/report", "/track/{token}", "/command/cases/{case_id}", "/data/health",
            "/around", "/my/reports", "/screen", "/targets/{target_id}"} <= set(paths)
    assert not [p for p in paths if p.startswith("/api")]
    case_id = store.fill["case_id"]
    assert PathFiller(store)("/command/cases/{case_id}") == f"/command/cases/{case_id}"
    with pytest.raises(AssertionError, match="teach PathFiller"):
        PathFiller(store)("/things/{thing_id}")


def test_the_reader_catches_each_kind_of_mistake(store: Store) -> None:
    reader = Reader(store)
    street = store.fill["street"]
    bad = {
        f"<p>{street}</p>": "area code", "<td>E0101</td>": "category code",
        "<dd>urban</dd>": "raw code", "<li>状态：handling</li>": "raw code",
        "<p>状态 Reported</p>": "English state", "<p>Unknown area code '{value}'.</p>":
        "unformatted", "<td>2026-12-07T06:00:00+00:00</td>": "UTC-looking",
    }
    for snippet, kind in bad.items():
        found = list(reader.problems(f"<html><body>{snippet}</body></html>", "zh_CN"))
        assert any(kind in f for f in found), (snippet, found)
    name = store.areas[street][0]
    good = (f"<table><tr><td>{street}</td><td>{name}</td></tr></table>"
            "<p>城管局 · 2026-12-07 14:00</p><span lang='en'>Closed</span>"
            "<p>您无权执行此操作（case.view）。</p><input value='urban'>")
    assert list(reader.problems(f"<html><body>{good}</body></html>", "zh_CN")) == []


@pytest.mark.parametrize("role", ["anonymous", "district_admin", "analyst",
                                  "department_officer", "street_commander", "grid_worker",
                                  "helper", "resident"])
def test_every_page_shows_names_in_the_readers_language_and_local_time(
        app: Any, store: Store, role: str) -> None:
    logins = [d for d in store.logins if d.role == role][:1]
    assert role == "anonymous" or logins, f"no demo login with the role {role}"
    found = _walk(app, store, logins[0] if logins else None)
    report = "\n".join(f"{page}: {p}" for page, problems in sorted(found.items())
                       for p in sorted(problems)[:3])
    assert not found, f"as {role}:\n{report}"


def test_role_list_covers_the_demo(store: Store) -> None:
    roles = {d.role for d in store.logins}
    param = test_every_page_shows_names_in_the_readers_language_and_local_time
    marks = [m for m in getattr(param, "pytestmark", []) if m.name == "parametrize"]
    assert roles <= set(marks[0].args[1])

