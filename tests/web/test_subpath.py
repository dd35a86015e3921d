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


#: scripts that cannot read ``<html data-root>``, and how they get the prefix instead
NO_DOCUMENT = {
    # a service worker has no document: the server fills in ROOT when it serves /m/sw.js, and
    # every cached path is mapped through ROOT + p
    "governance/patrol-sw.js": ('var ROOT = "__ROOT__";',
                                ".map(function (p) { return ROOT + p; })"),
}


def bare_paths_in_script(text: str) -> list[str]:
    """String literals starting with ``/`` not preceded by the mount prefix expression or a
    variable holding it (a CSS suffix selector such as ``[action$="/logout"]`` is no URL)."""
    prefixes = tuple(f"{p} + " for p in [ROOT_JS, *ROOT_VAR.findall(text)])
    return [text[max(0, m.start() - 40):m.end() + 30] for m in JS_PATH.finditer(text)
            if not text[:m.start()].endswith(prefixes) and not text[:m.start()].endswith("$=")]


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
    # the case's photo, on the resident's tracking page and the officer's case page
    photos = {value for p in pages for _, value in p.parsed.urls
              if "/photos/" in value or "/media/cases/" in value}
    assert any(v.startswith(PREFIX + "/track/") for v in photos), photos
    assert any(v.startswith(PREFIX + "/media/cases/") for v in photos), photos
    for value in photos:
        r = client.get(value)
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", value
    missing = unreached(client.app, pages, PREFIX)  # type: ignore[arg-type]
    assert not missing, f"the crawl reached no page of {missing}"
    assert sum(1 for p in pages if p.html) > 30


def test_static_scripts_build_urls_under_the_prefix() -> None:
    scripts = [p for p in STATIC.rglob("*.js") if "vendor" not in p.parts]
    assert scripts
    bad: list[str] = []
    for path in scripts:
        rel, text = path.relative_to(STATIC).as_posix(), path.read_text(encoding="utf-8")
        if rel in NO_DOCUMENT:
            bad += [f"{rel}: lacks {need!r}" for need in NO_DOCUMENT[rel] if need not in text]
            continue
        bad += [f"{rel}: {s!r}" for s in bare_paths_in_script(text)]
    assert not bad, "\n".join(bad)


def test_macros_that_write_links_are_imported_with_context() -> None:
    """A macro imported without context sees only the globals, where ``root`` is "": every
    import of a template whose macros write ``{{ root }}`` must say ``with context``."""
    src = STATIC.parents[1]
    imports = re.compile(r"""\{%-?\s*(?:from\s+["']([^"']+)["']\s+import"""
                         r"""|import\s+["']([^"']+)["'])(.*?)%\}""", re.S)
    templates = {p.relative_to(p.parents[1]).as_posix(): p
                 for p in src.glob("*/templates/**/*.html")}
    templates |= {p.relative_to(src / "web" / "templates").as_posix(): p
                  for p in (src / "web" / "templates").rglob("*.html")}
    bad = []
    for path in templates.values():
        for m in imports.finditer(path.read_text(encoding="utf-8")):
            name = m.group(1) or m.group(2)
            target = templates.get(name)
            if target and "root" in target.read_text(encoding="utf-8") \
                    and "with context" not in m.group(3):
                bad.append(f"{path.name}: {m.group(0)}")
    assert not bad, "\n".join(bad)


def test_the_page_tells_scripts_the_prefix(client: TestClient) -> None:
    html = client.get(PREFIX + "/login").text
    assert f'<html data-root="{PREFIX}"' in html
    assert f'href="{PREFIX}/static/css/app.css"' in html
    # the patrol app's service worker and manifest are filled in with the prefix
    assert f'var ROOT = "{PREFIX}";' in client.get(PREFIX + "/m/sw.js").text
    manifest = client.get(PREFIX + "/m/manifest.webmanifest").json()
    assert manifest["start_url"].startswith(PREFIX + "/m/")


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


def test_every_page_behind_a_login_sends_a_browser_to_log_in(district: Settings) -> None:
    """Not a bare 401: a page that needs a login takes the browser to the login page and back;
    an API client and an htmx request still get the 401 answer."""
    with TestClient(create_app(district), root_path=PREFIX) as c:
        for page in ("/command", "/command/inbox", "/m/tasks", "/targets", "/data/upload"):
            r = c.get(PREFIX + page, follow_redirects=False, headers={"accept": "text/html"})
            assert r.status_code == 303, page
            assert r.headers["location"] == f"{PREFIX}/login?next={page}", page
        assert c.get(PREFIX + "/command").status_code == 401  # no browser: the answer itself
        assert c.get(PREFIX + "/command", headers={"accept": "text/html",
                                                    "hx-request": "true"}).status_code == 401


def test_served_at_the_root_too(district: Settings) -> None:
    with TestClient(create_app(district)) as c:
        html = c.get("/login").text
        assert '<html data-root=""' in html and 'href="/static/css/app.css"' in html


def test_bare_path_finder() -> None:
    assert bare_paths_in_script('fetch("/api/x")')
    assert not bare_paths_in_script('fetch((document.documentElement.dataset.root || "") + '
                                    '"/api/x")')
    assert not bare_paths_in_script('a.split("/")')
