"""Login and logout through the browser forms, CSRF refusals and API-key requests."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from citygrowth.auth import service as svc
from citygrowth.auth.actor import system_actor
from citygrowth.auth.csrf import token_from_body
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, TEST_AUDIT, make_areas, make_user
from tests.web.login import form_token, login


@pytest.fixture
def seeded(settings: Settings) -> str:
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        make_areas(s)
        make_user(s, "admin", ("district_admin", DISTRICT))
        make_user(s, "cmd", ("street_commander", STREET_A))
        svc.create_user(s, system_actor(), "platform", [svc.GrantInput("machine", DISTRICT)])
        key = svc.create_api_key(s, system_actor(), "platform")
        s.commit()
    engine.dispose()
    return key


def _make_user_payload(name: str) -> dict[str, object]:
    return {"username": name, "password": "pass-word-1",
            "grants": [{"role": "analyst", "area_code": DISTRICT}]}


def test_login_page_is_chinese_first_with_an_english_switch(client: TestClient) -> None:
    page = client.get("/login", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "登录" in page.text and 'data-testid="lang-switch"' in page.text
    assert "User name" in client.get("/login?lang=en").text


def test_login_then_redirect_to_a_local_next_only(client: TestClient, seeded: str) -> None:
    token = form_token(client)
    r = client.post("/login", data={"username": "cmd", "password": "secret-pass-1",
                                    "csrf_token": token, "next": "//evil.example/x"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert client.get("/api/auth/me").json()["username"] == "cmd"


def test_login_keeps_next(client: TestClient, seeded: str) -> None:
    r = client.post("/login", data={"username": "cmd", "password": "secret-pass-1",
                                    "csrf_token": form_token(client, "/login?next=/cases"),
                                    "next": "/cases?x=1"}, follow_redirects=False)
    assert r.headers["location"] == "/cases?x=1"


def test_wrong_password_shows_the_form_again(client: TestClient, seeded: str) -> None:
    r = client.post("/login", data={"username": "cmd", "password": "nope-nope",
                                    "csrf_token": form_token(client)},
                    headers={"accept": "text/html"})
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text
    assert client.get("/api/auth/me").json()["authenticated"] is False


def test_login_without_csrf_token_is_refused(client: TestClient, seeded: str) -> None:
    client.get("/login")
    r = client.post("/login", data={"username": "cmd", "password": "secret-pass-1"})
    assert r.status_code == 403
    assert r.json()["code"] == "csrf"
    assert client.get("/api/auth/me").json()["authenticated"] is False


def test_session_post_without_token_is_refused(client: TestClient, seeded: str) -> None:
    token = login(client, "admin", "secret-pass-1")
    del client.headers["X-CSRF-Token"]
    r = client.post("/api/auth/users", json=_make_user_payload("u1"))
    assert r.status_code == 403
    assert set(r.json()) == {"ok", "error", "code", "errors"} and r.json()["code"] == "csrf"
    bad = client.post("/api/auth/users", json=_make_user_payload("u1"),
                      headers={"X-CSRF-Token": token + "x"})
    assert bad.status_code == 403
    ok = client.post("/api/auth/users", json=_make_user_payload("u1"),
                     headers={"X-CSRF-Token": token})
    assert ok.status_code == 201, ok.text


def test_form_post_carries_the_token_as_a_field(client: TestClient, seeded: str) -> None:
    token = login(client, "cmd", "secret-pass-1")
    del client.headers["X-CSRF-Token"]
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/auth/me").json()["authenticated"] is False


def test_multipart_token_is_found() -> None:
    body = (b'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\nabc123\r\n'
            b'--b\r\nContent-Disposition: form-data; name="f"; filename="x.csv"\r\n\r\n1\r\n--b--')
    assert token_from_body("multipart/form-data; boundary=b", body) == "abc123"
    assert token_from_body("application/x-www-form-urlencoded", b"a=1&csrf_token=t%2B") == "t+"


def test_api_key_requests_need_no_csrf_token(client: TestClient, seeded: str) -> None:
    r = client.get("/api/auth/me", headers={"X-API-Key": seeded})
    assert r.json()["username"] == "platform" and r.json()["via_api_key"] is True
    # the machine client may not manage users: refused by require(), not by CSRF
    r = client.post("/api/auth/users", json=_make_user_payload("u2"),
                    headers={"Authorization": f"Bearer {seeded}"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_bad_api_key_is_401(client: TestClient) -> None:
    r = client.get("/api/auth/me", headers={"X-API-Key": "cg_nope_nope"})
    assert r.status_code == 401 and r.json()["code"] == "bad_api_key"


def test_rate_limited_login_answers_429(client: TestClient, settings: Settings,
                                        seeded: str) -> None:
    for _ in range(settings.login_max_attempts):
        client.post("/login", data={"username": "cmd", "password": "wrong-pass",
                                    "csrf_token": form_token(client)})
    r = client.post("/login", data={"username": "cmd", "password": "secret-pass-1",
                                    "csrf_token": form_token(client)})
    assert r.status_code == 429
    assert r.json()["code"] == "too_many_requests"
    # the true time left of the window (300 s), not a fixed minute
    assert 290 <= int(r.headers["retry-after"]) <= settings.login_window_seconds


def test_admin_manages_keys_over_the_api(client: TestClient, seeded: str) -> None:
    login(client, "admin", "secret-pass-1")
    created = client.post("/api/auth/users/platform/keys", json={"name": "second"})
    assert created.status_code == 201 and created.json()["key"].startswith("cg_")
    keys = client.get("/api/auth/users/platform/keys").json()["items"]
    assert [k["name"] for k in keys] == ["", "second"]
    assert client.post(f"/api/auth/keys/{keys[1]['id']}/revoke").status_code == 204
    assert client.get("/api/auth/me", headers={"X-API-Key": created.json()["key"]}
                      ).status_code == 401
    verify = client.get("/api/auth/audit/verify").json()
    assert verify["ok"] is True and verify["checked"] >= 4


def test_street_commander_cannot_list_users(client: TestClient, seeded: str) -> None:
    login(client, "cmd", "secret-pass-1")
    assert client.get("/api/auth/users").status_code == 403


def test_pages_without_context_still_get_actor_and_token(client: TestClient,
                                                          seeded: str) -> None:
    token = login(client, "cmd", "secret-pass-1")
    page = client.get("/no-such-page", headers={"accept": "text/html"})  # the error page
    assert page.status_code == 404
    assert '<a class="who" href="/account" title="您的账户">cmd</a>' in page.text
    assert f'name="csrf_token" value="{token}"' in page.text
    assert f'"X-CSRF-Token": "{token}"' in page.text
