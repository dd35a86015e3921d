"""Nothing the application serves refers to another host: an intranet without internet sees
every page, the API documentation (/docs, /redoc) and every script as the internet does.

Rendered pages (every page the crawl reaches, /docs, /redoc, openapi.json) may name no other
host at all. Static files may name other hosts only where documented below: the vendored
libraries carry URLs as strings — XML namespaces, specification identifiers, links in error
messages — that are never fetched; the two that would be are switched off and named here."""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import citygrowth.web
from citygrowth.app import create_app
from citygrowth.ops.apidocs import CSP
from citygrowth.settings import Settings
from tests.web.crawl import crawl, login

STATIC = Path(citygrowth.web.__file__).parent / "static"
HOST = re.compile(r"https?://([A-Za-z0-9.-]+)")
LICENCE = re.compile(r"^(LICENSE.*|NOTICE|.*\.LICENSE\.txt)$")
NEVER_FETCHED = "identifiers, namespaces or links in messages; never fetched"
#: hosts vendored files name, per file, and why that is harmless
VENDOR_HOSTS: dict[str, dict[str, str]] = {
    "vendor/echarts/echarts.min.js.gz": {
        "www.w3.org": "SVG/XML namespaces", "github.com": NEVER_FETCHED,
        "www.apache.org": "licence header"},
    "favicon.svg": {"www.w3.org": "the SVG namespace name"},
    "vendor/lucide/icons.svg": {"www.w3.org": "the SVG namespace name"},
    "vendor/swagger-ui/swagger-ui.css": {"www.w3.org": "SVG namespaces in data: URIs"},
    "vendor/swagger-ui/swagger-ui-bundle.js.gz": {
        **{h: NEVER_FETCHED for h in (
            "www.w3.org", "datatracker.ietf.org", "www.rfc-editor.org", "spec.openapis.org",
            "json-schema.org", "spdx.org", "github.com", "swagger.io", "reactjs.org",
            "redux.js.org", "fb.me", "vladimirgorej.com", "example.com")},
        "base": "a placeholder base URL of sanitizeUrl()",
        **{h: "profile links of a markdown plugin, never rendered for an API description"
           for h in ("twitter.com", "instagram.com", "www.tiktok.com", "www.facebook.com",
                     "soundcloud.com")},
        "validator.swagger.io": "the online spec validator: switched off by validatorUrl: "
                                "null in static/apidocs/swagger-init.js",
    },
    "vendor/redoc/redoc.standalone.js.gz": {
        **{h: NEVER_FETCHED for h in (
            "www.w3.org", "json-schema.org", "github.com", "redocly.com", "example.com",
            "raw.githubusercontent.com", "stackoverflow.com", "reactjs.org", "marked.js.org",
            "git.io", "fb.me", "api.")},
        "cdn.redoc.ly": "the logo <img> in ReDoc's sidebar footer: blocked by the page's "
                        "Content-Security-Policy (img-src 'self'); the image hides itself",
    },
}
#: the published files, byte for byte (npm: swagger-ui-dist 5.35.0, redoc 2.5.4)
PUBLISHED = {
    "vendor/swagger-ui/swagger-ui-bundle.js.gz":
        "e6a898692f2d768e807c3ba4626068a69a2c5dd960dd6c76f3e4d3a3de180af2",
    "vendor/redoc/redoc.standalone.js.gz":
        "dcaf76612bc4a3fbcc923a8966dee2f6146a5f32e5ce1b6f02dd60cbbf89500b",
    "vendor/swagger-ui/swagger-ui.css":
        "5ed08757e53da3e026d6cbecc61fe5d43585c9560b302d534ad56692519a273d",
}


def _text(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def client(district: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(district)) as c:
        yield c


def test_no_page_names_another_host(client: TestClient, district: Settings) -> None:
    login(client)
    pages = crawl(client, district)
    urls = {p.url for p in pages if p.html}
    assert {"/docs", "/redoc", "/login", "/screen"} <= urls and len(urls) > 30
    found = {f"{p.url}: {m.group(0)}" for p in pages for m in HOST.finditer(p.html)
             if m.group(1) != "testserver"}
    openapi = client.get("/openapi.json").text
    found |= {f"/openapi.json: {m.group(0)}" for m in HOST.finditer(openapi)}
    assert not found, "\n".join(sorted(found))


def test_static_files_name_only_documented_hosts() -> None:
    files = [p for p in STATIC.rglob("*") if p.is_file() and p.suffix not in (".png",)
             and not LICENCE.match(p.name)]
    assert len(files) > 15
    bad: list[str] = []
    for path in files:
        rel = path.relative_to(STATIC).as_posix()
        allowed = VENDOR_HOSTS.get(rel, {})
        hosts = {m.group(1) for m in HOST.finditer(_text(path))}
        bad += [f"{rel}: {h}" for h in sorted(hosts - set(allowed))]
        # every exception still applies (a library update that drops a host updates the list)
        bad += [f"{rel}: no longer names {h}" for h in sorted(set(allowed) - hosts)]
    assert not bad, "\n".join(bad)


def test_api_docs_come_from_the_vendored_packages(client: TestClient) -> None:
    for rel, digest in PUBLISHED.items():
        data = (STATIC / rel).read_bytes()
        data = gzip.decompress(data) if rel.endswith(".gz") else data
        assert hashlib.sha256(data).hexdigest() == digest, rel
    for folder in ("swagger-ui", "redoc"):
        assert (STATIC / "vendor" / folder / "LICENSE").is_file()
    docs = client.get("/docs")
    assert docs.status_code == 200 and docs.headers["content-security-policy"] == CSP
    assert 'src="/static/vendor/swagger-ui/swagger-ui-bundle.js"' in docs.text
    assert 'data-openapi="/openapi.json"' in docs.text and "<script>" not in docs.text
    assert "validatorUrl: null" in (STATIC / "apidocs" / "swagger-init.js").read_text()
    redoc = client.get("/redoc")
    assert 'src="/static/vendor/redoc/redoc.standalone.js"' in redoc.text
    assert "img-src 'self' data:" in redoc.headers["content-security-policy"]
    assert "fonts.googleapis" not in redoc.text
    js = client.get("/static/vendor/redoc/redoc.standalone.js",
                    headers={"accept-encoding": "identity"})
    assert js.status_code == 200 and hashlib.sha256(js.content).hexdigest() == \
        PUBLISHED["vendor/redoc/redoc.standalone.js.gz"]


def test_api_docs_under_a_prefix(district: Settings) -> None:
    with TestClient(create_app(district), root_path="/cg") as c:
        html = c.get("/cg/docs").text
        assert 'data-openapi="/cg/openapi.json"' in html
        assert 'src="/cg/static/vendor/swagger-ui/swagger-ui-bundle.js"' in html
        assert 'spec-url="/cg/openapi.json"' in c.get("/cg/redoc").text
