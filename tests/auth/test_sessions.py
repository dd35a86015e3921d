"""Sessions with a version on the server, as the attacks: a copied cookie fails after logout, a
password change and a deactivation; sessions end after their absolute lifetime; changing one's
own password asks for the current one; refused writes are audited within a budget."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from citygrowth.app import create_app
from citygrowth.auth import sessions
from citygrowth.auth.models import AuditEntry
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, TEST_AUDIT, make_areas, make_user
from tests.web.login import form_token, login


@pytest.fixture
def store(settings: Settings) -> Iterator[Settings]:
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        make_areas(s)
        make_user(s, "admin", ("district_admin", DISTRICT))
        make_user(s, "cmd", ("street_commander", STREET_A))
        s.commit()
    engine.dispose()
    yield settings


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


def _copy(src: TestClient, settings: Settings) -> TestClient:
    """Another browser holding the same cookie (stolen, or synced to a second device)."""
    thief = _client(settings)
    thief.cookies.set("citygrowth_session", src.cookies["citygrowth_session"])
    thief.headers["X-CSRF-Token"] = src.headers["X-CSRF-Token"]
    return thief


def _me(c: TestClient) -> str | None:
    body = c.get("/api/auth/me").json()
    return body["username"] if body["authenticated"] else None


def test_a_copied_cookie_fails_after_logout(store: Settings) -> None:
    with _client(store) as victim:
        login(victim, "cmd", "secret-pass-1")
        with _copy(victim, store) as thief:
            assert _me(thief) == "cmd"  # the copy works while the session lives …
            assert victim.post("/logout", follow_redirects=False).status_code == 303
            assert _me(thief) is None  # … and not after its owner logged out
            r = thief.post("/api/auth/users", json={"username": "x", "grants": []})
            assert r.status_code in (401, 403)


def test_a_password_change_asks_for_the_current_one_and_ends_other_sessions(
        store: Settings) -> None:
    with _client(store) as me, _client(store) as other_device:
        login(me, "cmd", "secret-pass-1")
        login(other_device, "cmd", "secret-pass-1")
        url = "/api/auth/users/cmd/password?lang=en"
        r = me.put(url, json={"password": "a-new-pass-7"})
        assert r.status_code == 422 and r.json()["errors"] == [
            {"field": "current_password", "message": "The current password is wrong."}]
        r = me.put(url, json={"password": "a-new-pass-7", "current_password": "guess-guess"})
        assert r.status_code == 422
        r = me.put(url, json={"password": "a-new-pass-7", "current_password": "secret-pass-1"})
        assert r.status_code == 204
        me.headers["X-CSRF-Token"] = me.get("/api/auth/csrf").json()["csrf_token"]
        assert _me(me) == "cmd"  # this browser goes on
        assert _me(other_device) is None  # every other session ended
        login(other_device, "cmd", "a-new-pass-7")


def test_the_password_page_changes_it(store: Settings) -> None:
    with _client(store) as c:
        login(c, "cmd", "secret-pass-1")
        page = c.get("/account")
        assert page.status_code == 200 and "修改密码" in page.text
        assert page.headers["cache-control"] == "no-store"
        data = {"csrf_token": form_token(c, "/account"), "current_password": "secret-pass-1",
                "password": "password", "confirm": "password"}
        bad = c.post("/account/password", data=data)
        assert bad.status_code == 422 and "最常见的 10,000 个密码" in bad.text
        good = c.post("/account/password", data={**data, "password": "river-stone-42",
                                                  "confirm": "river-stone-42"})
        assert good.status_code == 200 and 'data-testid="password-changed"' in good.text
        assert _me(c) == "cmd"


def test_an_admin_reset_and_a_deactivation_end_the_users_sessions(store: Settings) -> None:
    with _client(store) as admin, _client(store) as cmd:
        login(admin, "admin", "secret-pass-1")
        login(cmd, "cmd", "secret-pass-1")
        r = admin.put("/api/auth/users/cmd/password", json={"password": "reset-pass-93"})
        assert r.status_code == 204 and _me(cmd) is None
        login(cmd, "cmd", "reset-pass-93")
        assert admin.post("/api/auth/users/cmd/deactivate").status_code == 200
        assert _me(cmd) is None


def test_a_session_ends_after_its_absolute_lifetime(store: Settings,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    short = store.model_copy(update={"session_absolute_seconds": 3600})
    with _client(short) as c:
        login(c, "cmd", "secret-pass-1")
        assert _me(c) == "cmd"
        later = time.time() + 3601
        monkeypatch.setattr(sessions.time, "time", lambda: later)
        assert _me(c) is None  # used all along, yet over: log in again


def test_a_cookie_without_a_version_is_no_session() -> None:
    assert sessions.session_user({"user_id": 1}, 3600) is None
    assert sessions.session_user({"user_id": 1, "sv": 0, "iat": int(time.time())}, 3600) == (1, 0)
    assert sessions.session_user({"user_id": True, "sv": 0, "iat": 0}, 10**10) is None


def test_refused_writes_are_audited_within_a_budget(store: Settings) -> None:
    limited = store.model_copy(update={"audit_refusals_per_minute": 3})
    with _client(limited) as c:
        for _ in range(25):  # anonymous writes: 401
            assert c.post("/api/auth/users", json={}).status_code == 401
        c.get("/login")  # a session without the CSRF token: 403 csrf
        assert c.post("/logout").status_code == 403
    engine = make_engine(store.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "auth.refused")
                              .order_by(AuditEntry.id)))
        total = s.scalar(select(func.count()).select_from(AuditEntry))
    engine.dispose()
    assert len(rows) == 3 and total == 3  # 26 refusals, 3 entries: the budget holds
    assert rows[0].target == "POST /api/auth/users" and rows[0].detail["status"] == 401
    assert rows[0].detail["code"] == "unauthenticated" and rows[0].actor == "anonymous"
