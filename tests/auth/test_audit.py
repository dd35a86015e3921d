"""The hash-chained audit log: intact chains verify; edited or deleted rows are named. (Cutting
entries off the end and rewriting the chain: ``tests/security/test_audit_chain.py``.)"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from citygrowth.auth import audit
from citygrowth.auth.actor import system_actor
from citygrowth.cli import main
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.settings import Settings
from tests.factories import TEST_AUDIT

KEY = b"k" * 32


def _three_entries(session: Session, key: bytes = KEY) -> list[int]:
    session.info[audit.AUDIT_KEY] = key  # what the runtime's sessions carry
    actor = system_actor("test")
    ids = [audit.record(session, actor, "case.create", f"case:{i}", {"n": i}).id
           for i in range(3)]
    session.commit()
    return ids


def test_intact_chain_verifies(session: Session) -> None:
    _three_entries(session)
    result = audit.verify(session)
    assert (result.ok, result.checked, result.first_bad_id) == (True, 3, None)


def test_edited_detail_is_named(session: Session) -> None:
    ids = _three_entries(session)
    dialect = session.get_bind().dialect.name
    new = "'{\"n\": 99}'" + ("::json" if dialect == "postgresql" else "")
    session.execute(text(f"UPDATE audit_log SET detail = {new} WHERE id = :id"), {"id": ids[1]})
    session.commit()
    session.expire_all()
    result = audit.verify(session)
    assert not result.ok
    assert result.first_bad_id == ids[1]
    assert result.reason == "this entry was altered"


def test_deleted_row_is_detected(session: Session) -> None:
    ids = _three_entries(session)
    session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[1]})
    session.commit()
    session.expire_all()
    result = audit.verify(session)
    assert not result.ok
    assert result.first_bad_id == ids[2]  # the entry after the gap no longer links
    assert result.checked == 1


def _cli_settings(tmp_path: Path, sqlite_url: str) -> Settings:
    return Settings(database_url=sqlite_url, data_dir=tmp_path)


def test_cli_verify_exits_1_naming_the_entry(tmp_path: Path, sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    key = audit.anchor_key(_cli_settings(tmp_path, sqlite_url))
    with make_sessionmaker(engine, {audit.AUDIT_KEY: key})() as s:
        ids = _three_entries(s, key)
        s.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE id = :id"),
                  {"id": ids[0]})
        s.commit()
    engine.dispose()
    env = {"CITYGROWTH_DATABASE_URL": sqlite_url, "CITYGROWTH_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["--lang", "en", "audit", "verify"], env=env)
    assert result.exit_code == 1
    assert f"entry {ids[0]}" in result.output


def test_cli_verify_and_tail_on_an_intact_log(tmp_path: Path, sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    key = audit.anchor_key(_cli_settings(tmp_path, sqlite_url))  # the key file's
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        _three_entries(s, key)
    engine.dispose()
    env = {"CITYGROWTH_DATABASE_URL": sqlite_url, "CITYGROWTH_DATA_DIR": str(tmp_path)}
    ok = CliRunner().invoke(main, ["--lang", "en", "audit", "verify"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "3 entries checked" in ok.output
    tail = CliRunner().invoke(main, ["audit", "tail", "-n", "2"], env=env)
    assert tail.exit_code == 0
    assert "case:2" in tail.output and "case:0" not in tail.output
