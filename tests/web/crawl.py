"""Crawling every page of the application with a ``TestClient``: a small district with data in
every domain, the page routes, and a crawler that follows same-site links.

Used by ``test_subpath.py`` (every URL under the mount prefix) and ``test_offline.py`` (no page
refers to another host)."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from citygrowth.accountability.demo import seed_demo
from citygrowth.analysis.briefing.service import make_briefing
from citygrowth.analysis.service import anomalies_for_load
from citygrowth.auth.actor import system_actor
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.governance import dispatch, media
from citygrowth.governance.intake import ReportInput, submit_report
from citygrowth.governance.models import Case
from citygrowth.governance.taxonomy import ensure_taxonomy
from citygrowth.ingest.service import load_observations
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_B, TEST_AUDIT, make_department
from tests.screens.conftest import PASSWORD, build_indexed

#: attributes that hold a URL the browser (or htmx) requests
URL_ATTRS = {"href", "src", "action", "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete",
             "sse-connect", "data-map", "data-url", "formaction", "poster", "spec-url"}
#: GET routes that are not HTML pages
NOT_PAGES = {"/media/cases/{name}", "/track/{token}/photos/{name}",
             "/data/templates/{dataset}.xlsx", "/catalog.jsonld", "/dataset/{name}.jsonld",
             "/healthz"}


def build_district(root: Path, sqlite_template: Path) -> Settings:
    """The screens' indexed district plus a case, a dispatch rule, targets and projects, and a
    briefing: something behind every page."""
    settings = build_indexed(root, sqlite_template)
    runtime = build_runtime(settings)
    system = system_actor("test")
    with runtime.session() as s:
        for code in ("urban", "education", "housing", "science", "industry", "invest"):
            make_department(s, code, code, code)
        ensure_taxonomy(s, runtime)
        jpeg = io.BytesIO()
        Image.new("RGB", (64, 48), (90, 140, 60)).save(jpeg, "JPEG")
        photo = media.store_photo(s, runtime.data_dir,
                                  media.encode_photo(jpeg.getvalue(), media.Limits.of(settings)),
                                  media.owner_of(system), runtime.now())
        submit_report(s, system, ReportInput(category_code="E0101", lon=120.305, lat=36.055,
                                             description="垃圾", photos=[media.ref_of(photo.id)]),
                      runtime=runtime)
        dispatch.add_rule(s, system, {"category_code": "E0101", "department_code": "urban",
                                      "priority": 5})
        seed_demo(s, system, DISTRICT, dt.date(2026, 3, 1), runtime.tz)
        make_briefing(s, system, runtime, DISTRICT, "2025-12", formats=("json",))
    with runtime.session() as s:  # a load with an anomaly warning, for the review page
        slip = pd.DataFrame([("SOC_VOLUNTEER_ORGS", STREET_B, "2026", 27.0 * 10000)],
                            columns=["indicator", "area_code", "period", "value"])
        load_id = load_observations(s, runtime, system, slip, source="test").load_id
        s.commit()
        assert anomalies_for_load(s, system, runtime, load_id)
    runtime.dispose()
    return settings


class PageUrls(HTMLParser):
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


def page_routes(app: FastAPI) -> list[APIRoute]:
    """Every GET route that answers an HTML page (not the API, not files)."""
    out: list[APIRoute] = []

    def walk(routes: list[object]) -> None:
        for r in routes:
            if isinstance(r, APIRoute) and "GET" in (r.methods or ()):
                out.append(r)
            inner = getattr(r, "original_router", None) or getattr(r, "router", None)
            if inner is not None and hasattr(inner, "routes"):
                walk(list(inner.routes))

    walk(list(app.routes))
    return [r for r in out if not r.path.startswith(("/api", "/open311", "/sdmx", "/openapi"))
            and r.path not in NOT_PAGES
            and not r.path.endswith((".xlsx", ".csv", ".json", ".jsonld", ".pdf", ".docx",
                                     ".ico", ".js", ".webmanifest"))]


def route_regex(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


def login(client: TestClient, prefix: str = "", next_path: str = "/targets") -> str:
    """Log the district's leader in through the form; returns the redirect's target."""
    page = client.get(prefix + "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    r = client.post(prefix + "/login", follow_redirects=False, data={
        "username": "leader", "password": PASSWORD, "csrf_token": token.group(1),
        "next": next_path})
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


@dataclass
class Page:
    url: str
    status: int
    html: str = ""
    location: str = ""
    parsed: PageUrls = field(default_factory=PageUrls)


def crawl(client: TestClient, settings: Settings, prefix: str = "",
          limit: int = 400) -> list[Page]:
    """GET every page route without parameters, the pages no page links to (a tracking page,
    an area profile, a missing page), and every same-site page linked from them."""
    routes = page_routes(client.app)  # type: ignore[arg-type]
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        token = s.scalars(select(Case.token)).first()
    engine.dispose()
    queue = [prefix + r.path for r in routes if "{" not in r.path]
    queue += [prefix + f"/track/{token}", prefix + f"/profile/{DISTRICT}",
              prefix + "/no-such-page"]
    seen: set[str] = set()
    pages: list[Page] = []
    while queue:
        url = queue.pop(0)
        if url in seen or len(seen) > limit:
            continue
        seen.add(url)
        r = client.get(url, follow_redirects=False, headers={"accept": "text/html"})
        if r.is_redirect:
            pages.append(Page(url, r.status_code, location=r.headers["location"]))
            continue
        if "text/html" not in r.headers.get("content-type", ""):
            continue
        page = Page(url, r.status_code, r.text)
        page.parsed.feed(r.text)
        pages.append(page)
        for where, value in page.parsed.urls:
            if not value.startswith("/") or value.startswith("//"):
                continue
            path = urlsplit(value).path
            if (where.endswith((" href>", " action>", " hx-get>")) and "/api/" not in path
                    and path.startswith(prefix + "/")
                    and not path.startswith(prefix + "/static/")
                    and not path.endswith(("/logout", ".csv", ".xlsx", ".pdf", ".docx"))):
                queue.append(path)
    return pages


def unreached(app: FastAPI, pages: list[Page], prefix: str = "") -> list[str]:
    """Page routes no crawled URL matched."""
    reached = {urlsplit(p.url).path[len(prefix):] for p in pages}
    return [r.path for r in page_routes(app)
            if not any(route_regex(r.path).match(p) for p in reached)]
