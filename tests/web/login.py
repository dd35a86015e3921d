"""Log a ``TestClient`` in through the real login form.

    from tests.web.login import login
    token = login(client, "cmd", "secret-pass-1")   # client now holds the session cookie
    client.post("/api/...", json=..., headers={"X-CSRF-Token": token})

``login`` also sets ``client.headers["X-CSRF-Token"]`` so later state-changing calls pass the
CSRF check without further ado.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(client: TestClient, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page's form."""
    m = TOKEN.search(client.get(path).text)
    assert m, f"no csrf_token field on {path}"
    return m.group(1)


def login(client: TestClient, username: str, password: str) -> str:
    """Log in; returns the session's (new) CSRF token and sets it as a default header."""
    r = client.post("/login", data={"username": username, "password": password,
                                    "csrf_token": form_token(client), "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    token = client.get("/api/auth/csrf").json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return str(token)
