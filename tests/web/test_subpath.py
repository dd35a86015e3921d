"""The application served below a sub-path (``/citygrowth``, as behind nginx): every page a
district admin can reach renders links, scripts, forms and redirects under the prefix, and no
script builds a same-site URL without it (HELPERS.md, "URL convention").

The crawl starts at every page route without parameters, follows every same-site link it
finds, and must reach every page route of the application (routes with parameters through the
links of a small district with data in every domain)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from citygrowth.accountability.demo import seed_demo
from citygrowth.analysis.briefing.service import make_briefing
from citygrowth.app import create_app
from citygrowth.auth.actor import system_actor
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.governance import dispatch
from citygrowth.governance.intake import ReportInput, submit_report
from citygrowth.governance.models import Case
from citygrowth.governance.taxonomy import ensure_taxonomy
from citygrowth.settings import Settings
from tests.factories import DISTRICT, make_department
from tests.screens.conftest import PASSWORD, build_indexed

PREFIX = "/citygrowth"
STATIC = Path(__file__).resolve().parents[2] / "src" / "citygrowth" / "web" / "static"
#: attributes that hold a URL the browser (or htmx) requests
URL_ATTRS = {"href", "src", "action", "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete",
             "sse-connect", "data-map", "data-url", "formaction", "poster"}
#: page routes the crawl need not reach: not HTML pages
NOT_PAGES = {"/media/cases/{name}", "/data/templates/{dataset}.xlsx", "/catalog.jsonld",
             "/dataset/{name}.jsonld", "/healthz"}
ROOT_JS = '(document.documentElement.dataset.root || "") + '
JS_PATH = re.compile(r"""["'`]/[A-Za-z]""")


class _Urls(HTMLParser):
    """The URLs in a page's attributes and the text of its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is not None and (name in URL_ATTRS or
                                      (name.startswith("data-") and name.endswith("-url"))):
                self.urls.append((f"<{tag} {name}>", value))
        self._in_script = tag == "script" and not dict(attrs).get("type")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def bare_paths_in_script(text: str) -> list[str]:
    """String literals starting with ``/`` not preceded by the mount prefix expression."""
    return [text[max(0, m.start() - 40):m.end() + 30] for m in JS_PATH.finditer(text)
            if not text[:m.start()].endswith(ROOT_JS)]


def page_routes(app: FastAPI) -> list[APIRoute]:
    out: list[APIRoute] = []

    def walk(routes: list[object]) -> None:
        for r in routes:
            if isinstance(r, APIRoute) and "GET" in (r.methods or ()):
                out.append(r)
            inner = getattr(r, "original_router", None) or getattr(r, "router", None)
            if inner is not None and hasattr(inner, "routes"):
                walk(list(inner.routes))

    walk(list(app.routes))
    return [r for r in out if not r.path.startswith(("/api", "/open311", "/sdmx", "/docs",
                                                      "/redoc", "/openapi"))
            and r.path not in NOT_PAGES]


def _route_regex(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Settings:
    """The screens' indexed district plus a case, a dispatch rule, targets and projects, and a
    briefing: something behind every page."""
    settings = build_indexed(tmp_path_factory.mktemp("subpath"), sqlite_template)
    engine = make_engine(settings.resolved_database_url)
    system = system_actor("test")
    with make_sessionmaker(engine)() as s:
        for code in ("urban", "education", "housing", "science", "industry", "invest"):
            make_department(s, code, code, code)
        ensure_taxonomy(s)
        submit_report(s, system, ReportInput(category_code="E0101", lon=120.305, lat=36.055,
                                             description="垃圾"), district_code=DISTRICT)
        dispatch.add_rule(s, system, {"category_code": "E0101", "department_code": "urban",
                                      "priority": 5})
        seed_demo(s, system, DISTRICT, dt.date(2026, 3, 1))
        make_briefing(s, system, settings, DISTRICT, "2025-12", formats=("json",))
        s.commit()
    engine.dispose()
    return settings


@pytest.fixture(scope="module")
def client(district: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(district), root_path=PREFIX) as c:
        yield c


def _login(client: TestClient) -> None:
    page = client.get(PREFIX + "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    r = client.post(PREFIX + "/login", follow_redirects=False, data={
        "username": "leader", "password": PASSWORD, "csrf_token": token.group(1),
        "next": "/targets"})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == PREFIX + "/targets"


def test_every_page_links_under_the_prefix(client: TestClient, district: Settings) -> None:
    _login(client)
    routes = page_routes(client.app)  # type: ignore[arg-type]
    start = [r.path for r in routes if "{" not in r.path]
    engine = make_engine(district.resolved_database_url)
    with make_sessionmaker(engine)() as s:
        token = s.scalars(select(Case.token)).first()
    engine.dispose()
    # pages no other page links to: a resident's tracking page, an area profile, a missing page
    queue = [PREFIX + p for p in start] + [PREFIX + f"/track/{token}",
                                            PREFIX + f"/profile/{DISTRICT}",
                                            PREFIX + "/no-such-page"]
    seen: set[str] = set()
    bad: list[str] = []
    pages = 0
    while queue:
        url = queue.pop(0)
        if url in seen or len(seen) > 400:
            continue
        seen.add(url)
        r = client.get(url, follow_redirects=False, headers={"accept": "text/html"})
        if r.is_redirect:
            loc = r.headers["location"]
            if not loc.startswith(PREFIX + "/"):
                bad.append(f"{url}: redirect to {loc}")
            continue
        if "text/html" not in r.headers.get("content-type", ""):
            continue
        pages += 1
        parser = _Urls()
        parser.feed(r.text)
        for where, value in parser.urls:
            if value.startswith("/") and not value.startswith("//"):
                if value != PREFIX and not value.startswith(PREFIX + "/"):
                    bad.append(f"{url}: {where}={value}")
                    continue
                path = urlsplit(value).path
                if (where.endswith((" href>", " action>", " hx-get>")) and "/api/" not in path
                        and not path.startswith(PREFIX + "/static/")
                        and not path.endswith(("/logout", ".csv", ".xlsx", ".pdf", ".docx"))):
                    queue.append(path)
        bad += [f"{url}: script {s!r}" for text in parser.scripts
                for s in bare_paths_in_script(text)]
    assert not bad, "\n".join(bad[:40])
    reached = {urlsplit(u).path[len(PREFIX):] for u in seen}
    missing = [r.path for r in routes
               if not any(_route_regex(r.path).match(p) for p in reached)]
    assert not missing, f"the crawl reached no page of {missing}"
    assert pages > 30


def test_static_scripts_build_urls_under_the_prefix() -> None:
    scripts = [p for p in STATIC.rglob("*.js") if "vendor" not in p.parts]
    assert scripts
    bad = [f"{p.relative_to(STATIC)}: {s!r}" for p in scripts
           for s in bare_paths_in_script(p.read_text(encoding="utf-8"))]
    assert not bad, "\n".join(bad)


def test_the_page_tells_scripts_the_prefix(client: TestClient) -> None:
    html = client.get(PREFIX + "/login").text
    assert f'<html data-root="{PREFIX}"' in html
    assert f'href="{PREFIX}/static/css/app.css"' in html


def test_login_gate_and_static_files_under_the_prefix(district: Settings) -> None:
    with TestClient(create_app(district), root_path=PREFIX) as c:
        r = c.get(PREFIX + "/admin/cases/rules?x=1", follow_redirects=False,
                  headers={"accept": "text/html"})
        assert r.status_code == 303
        assert r.headers["location"] == PREFIX + "/login?next=/admin/cases/rules%3Fx%3D1"
        assert c.get(PREFIX + "/static/css/app.css").status_code == 200
        # an API path below the prefix answers JSON errors, not a page
        r = c.get(PREFIX + "/api/no-such", headers={"accept": "text/html"})
        assert r.status_code == 404 and r.json()["ok"] is False


def test_served_at_the_root_too(district: Settings) -> None:
    with TestClient(create_app(district)) as c:
        html = c.get("/login").text
        assert '<html data-root=""' in html and 'href="/static/css/app.css"' in html


def test_bare_path_finder() -> None:
    assert bare_paths_in_script('fetch("/api/x")')
    assert not bare_paths_in_script('fetch((document.documentElement.dataset.root || "") + '
                                    '"/api/x")')
    assert not bare_paths_in_script('a.split("/")')

