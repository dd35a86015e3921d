"""Attacks on the audit chain by someone who can write the database but does not hold the audit
key: cutting the newest entries off, rewriting the chain with the project's own hash function,
forging or deleting the anchor, rolling back to an earlier state. ``citygrowth audit verify``
must fail on each (exit 1, naming what is wrong)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from citygrowth.auth import audit
from citygrowth.auth.actor import system_actor
from citygrowth.auth.models import AuditAnchor, AuditEntry
from citygrowth.cli import main
from citygrowth.runtime import Runtime, build_runtime
from citygrowth.settings import Settings


@pytest.fixture
def rt(db_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """The app's runtime on a fresh store (SQLite and PostgreSQL), with an audit key."""
    runtime = build_runtime(Settings(database_url=db_url, data_dir=tmp_path / "var",
                                     env="test", audit_key="audit-secret"))
    yield runtime
    runtime.dispose()


def _write(rt: Runtime, n: int, start: int = 0) -> None:
    with rt.session() as s:
        for i in range(start, start + n):
            audit.record(s, system_actor("app"), "case.dispatch", f"case:{i}", {"n": i})


def _verify(rt: Runtime, *extra: str) -> Result:
    env = {"CITYGROWTH_DATABASE_URL": rt.settings.resolved_database_url,
           "CITYGROWTH_DATA_DIR": str(rt.settings.data_dir),
           "CITYGROWTH_AUDIT_KEY": rt.settings.audit_key}
    return CliRunner().invoke(main, ["--lang", "en", "audit", "verify", *extra], env=env)


def _sql(rt: Runtime, statement: str, **params: object) -> None:
    with rt.engine.begin() as c:
        c.execute(text(statement), params)


def test_an_untouched_chain_verifies_and_prints_its_end(rt: Runtime) -> None:
    _write(rt, 5)
    result = _verify(rt)
    assert result.exit_code == 0, result.output
    assert "5 entries checked" in result.output
    with rt.session() as s:
        head = s.scalar(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1))
    assert f"5:{head}" in result.output


def test_cutting_off_the_newest_entries_is_caught(rt: Runtime) -> None:
    _write(rt, 6)
    _sql(rt, "DELETE FROM audit_log WHERE id > 4")  # every link that is left still holds
    with rt.session() as s:
        links_only = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert all(e.entry_hash == audit.compute_hash(e) for e in links_only)
    result = _verify(rt)
    assert result.exit_code == 1
    assert "entries were removed from the end of the chain" in result.output


def _rewrite(s: Session, entry_id: int, detail: dict[str, object]) -> None:
    """Edit one entry, then recompute every hash from it on with the project's function —
    what an attacker who read the source would do."""
    entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    prev = audit.GENESIS
    for e in entries:
        if e.id == entry_id:
            e.detail = detail
        e.prev_hash = prev
        e.entry_hash = audit.compute_hash(e)
        prev = e.entry_hash
        s.flush()


def test_a_chain_rewritten_with_the_projects_hash_function_is_caught(rt: Runtime) -> None:
    _write(rt, 5)
    with rt.sessionmaker() as s:  # the attacker's own connection: no key in it
        s.info.clear()
        _rewrite(s, 3, {"n": 999})
        s.commit()
    with rt.session() as s:  # every link holds: only the anchor can tell
        assert all(e.entry_hash == audit.compute_hash(e)
                   for e in s.scalars(select(AuditEntry)))
    result = _verify(rt)
    assert result.exit_code == 1
    assert "does not end where its signed anchor says" in result.output


def test_an_anchor_forged_without_the_key_is_caught(rt: Runtime) -> None:
    _write(rt, 5)
    _sql(rt, "DELETE FROM audit_log WHERE id > 3")
    with rt.sessionmaker() as s:
        head = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert head is not None
        anchor = s.get(AuditAnchor, audit.ANCHOR_ID)
        assert anchor is not None
        guessed = hashlib.sha256(b"citygrowth audit anchor\x00").digest()  # no secret
        anchor.entry_count, anchor.head_id, anchor.head_hash = 3, head.id, head.entry_hash
        anchor.mac = hmac.new(guessed, f"citygrowth-audit|3|{head.id}|{head.entry_hash}"
                              .encode(), hashlib.sha256).hexdigest()
        s.commit()
    result = _verify(rt)
    assert result.exit_code == 1
    assert "does not match the audit key" in result.output


def test_a_tampered_anchor_is_not_signed_anew_by_the_next_entry(rt: Runtime) -> None:
    _write(rt, 5)
    _sql(rt, "DELETE FROM audit_log WHERE id > 3")
    _sql(rt, "UPDATE audit_anchor SET entry_count = 3")  # made to agree, but unsigned
    _write(rt, 2, start=10)  # the application goes on writing
    result = _verify(rt)
    assert result.exit_code == 1
    assert "does not match the audit key" in result.output


def test_deleting_the_anchor_is_caught(rt: Runtime) -> None:
    _write(rt, 4)
    _sql(rt, "DELETE FROM audit_log WHERE id > 2")
    _sql(rt, "DELETE FROM audit_anchor")
    _write(rt, 1, start=10)  # and a later entry does not make a new one
    result = _verify(rt)
    assert result.exit_code == 1
    assert "has no anchor" in result.output


def test_another_key_fails_verify(rt: Runtime) -> None:
    _write(rt, 3)
    env = {"CITYGROWTH_DATABASE_URL": rt.settings.resolved_database_url,
           "CITYGROWTH_DATA_DIR": str(rt.settings.data_dir),
           "CITYGROWTH_AUDIT_KEY": "someone-elses"}
    result = CliRunner().invoke(main, ["--lang", "en", "audit", "verify"], env=env)
    assert result.exit_code == 1
    assert "does not match the audit key" in result.output


def test_an_exact_replay_of_an_older_state_needs_the_noted_line(rt: Runtime) -> None:
    """The anchor alone cannot tell an exact rollback (older chain *and* its older anchor):
    the line noted elsewhere can."""
    _write(rt, 3)
    noted = _verify(rt).output.strip().splitlines()[-1]
    with rt.session() as s:
        anchor = s.get(AuditAnchor, audit.ANCHOR_ID)
        assert anchor is not None
        saved = (anchor.entry_count, anchor.head_id, anchor.head_hash, anchor.mac)
    _write(rt, 3, start=3)
    later = _verify(rt).output.strip().splitlines()[-1]
    _sql(rt, "DELETE FROM audit_log WHERE id > 3")
    _sql(rt, "UPDATE audit_anchor SET entry_count = :c, head_id = :i, head_hash = :h, mac = :m",
         c=saved[0], i=saved[1], h=saved[2], m=saved[3])
    assert _verify(rt).exit_code == 0  # documented limit of an in-database anchor
    assert _verify(rt, "--expect", noted).exit_code == 0
    replayed = _verify(rt, "--expect", later)
    assert replayed.exit_code == 1
    assert "shorter than noted earlier" in replayed.output


def test_an_older_chain_is_anchored_once_by_the_operator(rt: Runtime) -> None:
    _write(rt, 3)
    _sql(rt, "DELETE FROM audit_anchor")  # as a store from before anchors looks
    assert "has no anchor" in _verify(rt).output
    env = {"CITYGROWTH_DATABASE_URL": rt.settings.resolved_database_url,
           "CITYGROWTH_DATA_DIR": str(rt.settings.data_dir),
           "CITYGROWTH_AUDIT_KEY": rt.settings.audit_key}
    done = CliRunner().invoke(main, ["--lang", "en", "audit", "anchor", "--yes",
                                     "--reason", "upgrade"], env=env)
    assert done.exit_code == 0, done.output
    assert "anchored: 4 entries" in done.output  # the act is itself an entry
    assert _verify(rt).exit_code == 0
    with rt.session() as s:
        act = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert act is not None and act.action == "audit.anchor"
        assert act.detail == {"reason": "upgrade", "previous": None}


def test_anchoring_over_broken_links_is_refused(rt: Runtime) -> None:
    _write(rt, 3)
    _sql(rt, "UPDATE audit_log SET actor = 'someone' WHERE id = 2")
    env = {"CITYGROWTH_DATABASE_URL": rt.settings.resolved_database_url,
           "CITYGROWTH_DATA_DIR": str(rt.settings.data_dir),
           "CITYGROWTH_AUDIT_KEY": rt.settings.audit_key}
    refused = CliRunner().invoke(main, ["--lang", "en", "audit", "anchor", "--yes"], env=env)
    assert refused.exit_code != 0
    assert "broken at entry 2" in refused.output
    assert _verify(rt).exit_code == 1


def test_the_key_falls_back_to_the_secret_key_then_to_a_key_file(tmp_path: Path) -> None:
    own = audit.anchor_key(Settings(data_dir=tmp_path, audit_key="a", secret_key="s"))
    secret = audit.anchor_key(Settings(data_dir=tmp_path, secret_key="s"))
    assert own != secret == audit.anchor_key(Settings(data_dir=tmp_path, audit_key="s"))
    assert not (tmp_path / audit.KEY_FILE).exists()
    made = audit.anchor_key(Settings(data_dir=tmp_path))
    key_file = tmp_path / audit.KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert made == audit.anchor_key(Settings(data_dir=tmp_path)) != secret  # kept, not remade
