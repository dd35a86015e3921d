"""One middleware sets the security headers on every answer; personal data is never stored by a
cache; no template carries an inline script or event handler (the CSP allows none)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from citygrowth.app import create_app
from citygrowth.settings import Settings
from citygrowth.web.security import CSP

SRC = Path(__file__).resolve().parents[2] / "src" / "citygrowth"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>",
                           re.I)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def test_every_answer_has_the_headers(client: TestClient) -> None:
    for r in (client.get("/login"), client.get("/api/auth/me"), client.get("/nowhere"),
              client.post("/api/auth/users", json={}), client.get("/static/css/app.css")):
        h = r.headers
        assert h["content-security-policy"] == CSP, r.url
        assert "frame-ancestors 'none'" in CSP and "script-src 'self';" in CSP
        assert "unsafe-inline" not in CSP.split("script-src")[1].split(";")[0]
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in h  # not in production


def test_hsts_in_production(settings: Settings) -> None:
    prod = settings.model_copy(update={"env": "production", "hsts_seconds": 600})
    with TestClient(create_app(prod), base_url="https://testserver") as c:
        assert c.get("/healthz").headers["strict-transport-security"] == "max-age=600"


def test_no_store_on_personal_data_and_credentialed_answers(client: TestClient) -> None:
    for path in ("/login", "/track/abc", "/api/cases", "/command", "/media/cases/x.png",
                 "/open311/v2/requests.json", "/my/reports", "/report"):
        assert client.get(path).headers.get("cache-control") == "no-store", path
    client.cookies.clear()  # no session: public data may be cached
    assert client.get("/api/areas.geojson").headers.get("cache-control") != "no-store"
    with_key = client.get("/api/areas.geojson", headers={"X-API-Key": "cg_x_y"})
    assert with_key.headers["cache-control"] == "no-store"
    assert "no-store" not in client.get("/static/css/app.css").headers.get("cache-control", "")


def test_the_api_docs_get_their_own_policy(client: TestClient) -> None:
    csp = client.get("/docs").headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in csp and "frame-ancestors 'none'" in csp


def test_no_template_has_an_inline_script_or_handler() -> None:
    found = []
    for path in SRC.glob("**/templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(SRC)}: {m.group()}"
                  for rx in (INLINE_SCRIPT, INLINE_HANDLER) for m in rx.finditer(text)]
    assert found == []
