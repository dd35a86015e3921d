"""User management, argon2 logins and the login rate limit (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citygrowth.auth import service as svc
from citygrowth.auth.actor import system_actor
from citygrowth.auth.identity import TOUCH_EVERY, actor_for_api_key
from citygrowth.auth.login import login
from citygrowth.auth.models import ApiKey, AuditEntry, LoginFailures, User
from citygrowth.errors import (
    Conflict,
    Forbidden,
    TooManyRequests,
    Unauthenticated,
    ValidationFailed,
)
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, STREET_B, make_areas, make_user

SETTINGS = Settings(env="test", login_max_attempts=3, login_window_seconds=600)


def _admin(session: Session):  # type: ignore[no-untyped-def]
    make_areas(session)
    return make_user(session, "admin", ("district_admin", DISTRICT))[1]


def test_created_user_logs_in_with_an_argon2_password(session: Session) -> None:
    admin = _admin(session)
    svc.create_user(session, admin, "li.na", [svc.GrantInput("street_commander", STREET_A)],
                    "street-pass-1")
    stored = session.scalar(select(User).where(User.username == "li.na"))
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    actor = login(session, "li.na", "street-pass-1", "10.0.0.1", SETTINGS)
    assert actor.username == "li.na"
    assert actor.area_codes("street_commander") == [STREET_A]
    actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["user.create", "auth.login"]


def test_wrong_password_is_refused_and_counted(session: Session) -> None:
    _admin(session)
    with pytest.raises(Unauthenticated) as exc:
        login(session, "admin", "not-the-password", "10.0.0.2", SETTINGS)
    assert exc.value.code == "bad_login"
    # counted under the name and address, the address, and everyone
    assert session.scalar(select(func.count()).select_from(LoginFailures)) == 3


def test_login_rate_limit_refuses_even_the_right_password(session: Session) -> None:
    _admin(session)
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            login(session, "admin", "wrong-password", "10.0.0.3", SETTINGS)
    with pytest.raises(TooManyRequests) as exc:
        login(session, "admin", "secret-pass-1", "10.0.0.3", SETTINGS)
    assert "10 minutes" in exc.value.render_message("en")
    # another address is not affected
    assert login(session, "admin", "secret-pass-1", "10.0.0.4", SETTINGS).username == "admin"


def test_failed_attempts_survive_a_rollback(session: Session) -> None:
    _admin(session)
    session.commit()
    with pytest.raises(Unauthenticated):
        login(session, "admin", "wrong-password", "10.0.0.5", SETTINGS)
    session.rollback()
    assert session.scalar(select(LoginFailures.count).where(
        LoginFailures.key == "n:admin|10.0.0.5")) == 1


def test_user_management_needs_user_manage(session: Session) -> None:
    make_areas(session)
    _, street = make_user(session, "cmd", ("street_commander", STREET_A))
    with pytest.raises(Forbidden):
        svc.create_user(session, street, "x", [svc.GrantInput("grid_worker", STREET_A)],
                        "grid-pass-12")


def test_bad_grants_name_each_problem(session: Session) -> None:
    admin = _admin(session)
    with pytest.raises(ValidationFailed) as exc:
        svc.create_user(session, admin, "x", [svc.GrantInput("mayor", "370203999")], "pass-word-1")
    fields = sorted(p.field for p in exc.value.problems if p.field)
    assert fields == ["area_code", "role"]
    with pytest.raises(ValidationFailed):
        svc.create_user(session, admin, "y", [svc.GrantInput("analyst", DISTRICT)], "short")
    assert session.scalar(select(User).where(User.username.in_(["x", "y"]))) is None


def test_duplicate_user_and_grant_conflict(session: Session) -> None:
    admin = _admin(session)
    svc.create_user(session, admin, "dup", [svc.GrantInput("analyst", DISTRICT)], "pass-word-1")
    with pytest.raises(Conflict):
        svc.create_user(session, admin, "dup", [], "pass-word-1")
    with pytest.raises(Conflict):
        svc.grant_role(session, admin, "dup", svc.GrantInput("analyst", DISTRICT))


def test_grant_revoke_and_deactivate(session: Session) -> None:
    admin = _admin(session)
    svc.create_user(session, admin, "w", [svc.GrantInput("grid_worker", STREET_A + "001001")],
                    "grid-pass-12")
    svc.grant_role(session, admin, "w", svc.GrantInput("helper", STREET_B))
    assert {g.role for g in svc.get_user(session, "w").grants} == {"grid_worker", "helper"}
    svc.revoke_role(session, admin, "w", svc.GrantInput("helper", STREET_B))
    assert {g.role for g in svc.get_user(session, "w").grants} == {"grid_worker"}
    svc.deactivate(session, admin, "w")
    with pytest.raises(Unauthenticated):
        login(session, "w", "grid-pass-12", "10.0.0.6", SETTINGS)


def test_department_officer_needs_a_department(session: Session) -> None:
    admin = _admin(session)
    with pytest.raises(ValidationFailed) as exc:
        svc.create_user(session, admin, "officer",
                        [svc.GrantInput("department_officer", DISTRICT)], "pass-word-1")
    assert exc.value.problems[0].field == "department_code"


def test_api_key_authenticates_until_revoked(session: Session) -> None:
    admin = _admin(session)
    svc.create_user(session, admin, "platform", [svc.GrantInput("machine", DISTRICT)])
    secret = svc.create_api_key(session, admin, "platform", "city")
    actor = actor_for_api_key(session, secret)
    assert actor is not None and actor.has_role("machine") and actor.api_key_id
    wrong = secret[:-1] + ("x" if secret[-1] != "x" else "y")  # never the key itself
    assert actor_for_api_key(session, wrong) is None
    svc.revoke_api_key(session, admin, actor.api_key_id)
    assert actor_for_api_key(session, secret) is None


def test_a_keys_last_use_is_written_once_a_minute_not_per_request(session: Session) -> None:
    admin = _admin(session)
    svc.create_user(session, admin, "platform", [svc.GrantInput("machine", DISTRICT)])
    secret = svc.create_api_key(session, admin, "platform", "city")
    actor = actor_for_api_key(session, secret)
    assert actor is not None
    key = session.get(ApiKey, actor.api_key_id)
    assert key is not None and key.last_used_at is not None
    session.commit()
    first = key.last_used_at
    actor_for_api_key(session, secret)
    assert key not in session.dirty  # a read within the minute writes nothing
    key.last_used_at = first - TOUCH_EVERY
    session.commit()
    actor_for_api_key(session, secret)
    assert key.last_used_at > first


def test_list_users_is_scoped_and_the_cli_actor_sees_all(session: Session) -> None:
    admin = _admin(session)
    svc.create_user(session, admin, "a1", [svc.GrantInput("analyst", DISTRICT)], "pass-word-1")
    names = [u.username for u in svc.list_users(session, admin)]
    assert names == ["a1", "admin"]
    assert [u.username for u in svc.list_users(session, system_actor())] == ["a1", "admin"]
