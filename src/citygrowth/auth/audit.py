"""The append-only, hash-chained audit log.

``record`` appends one entry whose hash covers the previous entry's hash and this entry's
canonical JSON; ``prev_hash`` is unique, so the chain cannot fork. ``verify`` walks the chain
and reports the first entry that was edited, deleted or inserted out of order.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.auth.models import AuditEntry
from citygrowth.db import utcnow
from citygrowth.i18n import N_

GENESIS = "0" * 64


def _canonical(entry: AuditEntry) -> str:
    body = {
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "detail": entry.detail,
        "prev": entry.prev_hash,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def compute_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry).encode()).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an audit entry in the caller's transaction (so it commits with the change)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(727372)"))  # one appender at a time
    last = session.scalar(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1))
    entry = AuditEntry(
        at=utcnow(),
        actor=actor.username,
        action=action,
        target=target,
        detail=json.loads(json.dumps(detail or {}, default=str, ensure_ascii=False)),
        prev_hash=last or GENESIS,
    )
    entry.entry_hash = compute_hash(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""


def verify(session: Session) -> VerifyResult:
    """Walk the chain in id order; the first broken link names the tampered entry."""
    prev = GENESIS
    checked = 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        if entry.prev_hash != prev:
            return VerifyResult(False, checked, entry.id,
                                N_("an earlier entry was deleted or altered"))
        if compute_hash(entry) != entry.entry_hash:
            return VerifyResult(False, checked, entry.id, N_("this entry was altered"))
        prev = entry.entry_hash
        checked += 1
    return VerifyResult(True, checked)
