"""The demo users step and the user commands."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citygrowth.auth.actor import system_actor
from citygrowth.auth.demo import load_demo_users
from citygrowth.auth.identity import actor_for_api_key
from citygrowth.auth.login import login
from citygrowth.auth.models import AuditEntry, User
from citygrowth.cli import main
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, STREET_B, TEST_AUDIT, make_areas


def test_demo_users_cover_every_role_and_are_idempotent(session: Session) -> None:
    make_areas(session)
    key = load_demo_users(session, system_actor("demo"), DISTRICT)
    assert key is not None and actor_for_api_key(session, key).username == "platform"
    users = {u.username: u for u in session.scalars(select(User))}
    roles = {g.role for u in users.values() for g in u.grants}
    assert roles == {"district_admin", "analyst", "department_officer", "street_commander",
                     "grid_worker", "helper", "resident", "machine"}
    assert [g.area_code for g in users["street1"].grants] == [STREET_A]
    assert [g.area_code for g in users["street2"].grants] == [STREET_B]
    assert {g.department_code for g in users["stats"].grants} == {"stats"}
    assert users["grid1"].grants[0].area_code.startswith(STREET_A)
    audited = session.scalar(select(func.count()).select_from(AuditEntry))
    assert load_demo_users(session, system_actor("demo"), DISTRICT) is None  # key kept
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audited
    actor = login(session, "street1", "street1-demo-2026", "127.0.0.1", Settings(env="test"))
    assert actor.area_codes() == [STREET_A]


def _env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {"CITYGROWTH_DATABASE_URL": settings.resolved_database_url,
            "CITYGROWTH_DATA_DIR": str(tmp_path)}


def _seed(settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        make_areas(s)
        s.commit()
    engine.dispose()


def test_user_add_grant_list_and_keys(settings: Settings, tmp_path: Path) -> None:
    _seed(settings)
    env = _env(settings, tmp_path)
    run = CliRunner().invoke
    r = run(main, ["--lang", "en", "user", "add", "li.na", "--role", "street_commander",
                   "--area", STREET_A, "--password-stdin"], input="li-na-pass-1\n", env=env)
    assert r.exit_code == 0, r.output
    assert "User li.na created." in r.output
    r = run(main, ["user", "grant", "li.na", "--role", "grid_worker", "--area",
                   STREET_A + "001001"], env=env)
    assert r.exit_code == 0, r.output
    r = run(main, ["user", "list"], env=env)
    assert "li.na" in r.output and "grid_worker@370203001001001" in r.output
    r = run(main, ["user", "add", "platform", "--role", "machine", "--area", DISTRICT], env=env)
    assert r.exit_code == 0, r.output
    key = run(main, ["user", "key", "create", "platform"], env=env).output.strip()
    assert key.startswith("cg_")
    assert "platform" not in run(main, ["user", "key", "list", "li.na"], env=env).output


def test_cli_errors_are_clean_messages(settings: Settings, tmp_path: Path) -> None:
    _seed(settings)
    r = CliRunner().invoke(main, ["--lang", "en", "user", "add", "x", "--role", "analyst",
                                  "--area", "370203999", "--password-stdin"],
                           input="pass-word-1\n", env=_env(settings, tmp_path))
    assert r.exit_code == 1
    assert "There is no area with code '370203999'." in r.output
    assert "Traceback" not in r.output


def test_demo_logins_lists_every_account(settings: Settings, tmp_path: Path) -> None:
    _seed(settings)
    env = _env(settings, tmp_path)
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        load_demo_users(s, system_actor("demo"), DISTRICT)
        s.commit()
    engine.dispose()
    r = CliRunner().invoke(main, ["--lang", "en", "users", "demo-logins"], env=env)
    assert r.exit_code == 0, r.output
    for text in ("admin-demo-2026", "street2-demo-2026", "Street 1", "(API key only)"):
        assert text in r.output
