"""The application served below a sub-path (``/citygrowth``, as behind nginx): every page a
district admin can reach renders links, scripts, forms and redirects under the prefix, and no
script builds a same-site URL without it (HELPERS.md, "URL convention").

The crawl (``tests/web/crawl.py``) starts at every page route without parameters, follows every
same-site link it finds, and must reach every page route of the application."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from citygrowth.app import create_app
from citygrowth.settings import Settings
from tests.web.crawl import crawl, login, unreached

PREFIX = "/citygrowth"
STATIC = Path(__file__).resolve().parents[2] / "src" / "citygrowth" / "web" / "static"
ROOT_JS = '(document.documentElement.dataset.root || "")'
JS_PATH = re.compile(r"""["'`]/[A-Za-z]""")
# a variable holding the prefix: `var base = document.documentElement.dataset.root || "";`
ROOT_VAR = re.compile(r"""(?:var|let|const)\s+(\w+)\s*=\s*document\.documentElement\.dataset"""
                      r"""\.root\s*\|\|\s*["']{2}""")


def bare_paths_in_script(text: str) -> list[str]:
    """String literals starting with ``/`` not preceded by the mount prefix expression or a
    variable holding it."""
    prefixes = tuple(f"{p} + " for p in [ROOT_JS, *ROOT_VAR.findall(text)])
    return [text[max(0, m.start() - 40):m.end() + 30] for m in JS_PATH.finditer(text)
            if not text[:m.start()].endswith(prefixes)]


@pytest.fixture(scope="module")
def client(district: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(district), root_path=PREFIX) as c:
        yield c


def test_every_page_links_under_the_prefix(client: TestClient, district: Settings) -> None:
    assert login(client, PREFIX) == PREFIX + "/targets"
    pages = crawl(client, district, PREFIX)
    bad: list[str] = []
    for page in pages:
        if page.location and not page.location.startswith(PREFIX + "/"):
            bad.append(f"{page.url}: redirect to {page.location}")
        for where, value in page.parsed.urls:
            if (value.startswith("/") and not value.startswith("//")
                    and value != PREFIX and not value.startswith(PREFIX + "/")):
                bad.append(f"{page.url}: {where}={value}")
        bad += [f"{page.url}: script {s!r}" for text in page.parsed.scripts
                for s in bare_paths_in_script(text)]
    assert not bad, "\n".join(bad[:40])
    missing = unreached(client.app, pages, PREFIX)  # type: ignore[arg-type]
    assert not missing, f"the crawl reached no page of {missing}"
    assert sum(1 for p in pages if p.html) > 30


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
