"""Every JSON error has the one shape ``{"ok": false, "error", "code", "errors"}``; browsers get
an error page instead, in their language."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from citygrowth.errors import NotFound, Problem, ValidationFailed

KEYS = {"ok", "error", "code", "errors"}


def _shape(body: Any, code: str) -> None:
    assert isinstance(body, dict) and set(body) == KEYS, body
    assert body["ok"] is False and body["code"] == code and isinstance(body["errors"], list)
    assert body["error"]


@pytest.fixture
def boom_app(app: FastAPI) -> FastAPI:
    def boom() -> None:
        raise RuntimeError("not for users to see")

    def missing() -> None:
        raise NotFound("There is no area with code '{code}'.", code="370203999")

    def invalid() -> None:
        raise ValidationFailed(problems=[Problem(
            message="A password needs at least {n} characters.", params={"n": 8},
            file="users.csv", row=3, field="password", value="short")])

    app.add_api_route("/api/test/boom", boom)
    app.add_api_route("/api/test/missing", missing)
    app.add_api_route("/api/test/invalid", invalid)
    return app


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("get", "/api/nothing-here", 404, "not_found"),
    ("delete", "/healthz", 405, "method_not_allowed"),
    ("get", "/api/auth/users", 401, "unauthenticated"),
    ("get", "/api/web/streets?district=abc", 422, "invalid"),
    ("post", "/login", 422, "invalid"),
])
def test_http_errors_have_the_one_shape(client: TestClient, method: str, path: str,
                                        status: int, code: str) -> None:
    r = client.request(method, path)
    assert r.status_code == status
    _shape(r.json(), code)


def test_validation_errors_name_the_field(client: TestClient) -> None:
    r = client.get("/api/web/streets?district=abc&lang=en")
    _shape(r.json(), "invalid")
    assert r.json()["errors"][0]["field"] == "district"


def test_errors_carry_problem_locations_and_translate(boom_app: FastAPI) -> None:
    with TestClient(boom_app) as c:
        zh = c.get("/api/test/invalid").json()
        missing = c.get("/api/test/missing").json()
        en = c.get("/api/test/invalid?lang=en").json()
    _shape(zh, "invalid")
    assert zh["errors"] == [{"message": "密码至少需要 8 个字符。", "file": "users.csv", "row": 3,
                             "field": "password", "value": "short"}]
    assert en["errors"][0]["message"] == "A password needs at least 8 characters."
    _shape(missing, "not_found")
    assert missing["error"] == "不存在代码为“370203999”的区域。"


def test_unexpected_error_is_a_500_without_a_traceback(boom_app: FastAPI) -> None:
    with TestClient(boom_app, raise_server_exceptions=False) as c:
        r = c.get("/api/test/boom")
    assert r.status_code == 500
    _shape(r.json(), "internal")
    assert "not for users" not in r.text and "Traceback" not in r.text


def test_csrf_refusal_has_the_one_shape(client: TestClient) -> None:
    client.get("/api/auth/csrf")  # starts a browser session
    r = client.post("/logout")
    assert r.status_code == 403
    _shape(r.json(), "csrf")


def test_browsers_get_an_error_page(client: TestClient) -> None:
    r = client.get("/no-such-page", headers={"accept": "text/html"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "未找到。" in r.text and "<h1>" in r.text
