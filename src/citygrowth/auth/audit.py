"""The append-only, hash-chained audit log, its end anchored under a key.

``record`` appends one entry whose hash covers the previous entry's hash and this entry's
canonical JSON; ``prev_hash`` is unique, so the chain cannot fork. In the same transaction it
moves the chain's **anchor** (:class:`~citygrowth.auth.models.AuditAnchor`: the number of
entries and the newest one) and signs it with an HMAC under the audit key (``audit_key``,
else ``secret_key``, else ``<data_dir>/audit.key``; :func:`anchor_key`), which the runtime
puts into every session it makes (``session.info``).

``verify`` walks the chain and reports the first entry that was edited, deleted or inserted
out of order — and, through the anchor, what a hash chain alone cannot show: entries cut off
its end, and a chain rewritten with its own (public) hash function. Whoever can write the
database but does not hold the key cannot sign an anchor for either.

What the anchor cannot show is a rollback to an earlier anchor *together with* the chain as it
was then, or the loss of everything: keep the line ``citygrowth audit verify`` prints (count
and head) somewhere else now and then, and check against it with ``--expect COUNT:HEAD``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.auth.models import AuditAnchor, AuditEntry
from citygrowth.auth.permissions import require
from citygrowth.db import utcnow
from citygrowth.errors import Conflict
from citygrowth.i18n import N_, translate
from citygrowth.settings import Settings

GENESIS = "0" * 64
#: ``session.info`` key of the audit key (the runtime's sessionmaker puts it there)
AUDIT_KEY = "citygrowth_audit_key"
ANCHOR_ID = 1
KEY_FILE = "audit.key"
#: signing the anchor anew: no role has it, only the system actor (the operator's CLI)
ANCHOR_PERMISSION = "audit.anchor"


def anchor_key(settings: Settings) -> bytes:
    """The key anchors are signed with: derived from ``audit_key``, else ``secret_key``, else
    from a random key kept in ``<data_dir>/audit.key`` (made on first use, owner-only)."""
    secret = settings.audit_key or settings.secret_key or _key_file(settings.data_dir / KEY_FILE)
    return hashlib.sha256(b"citygrowth audit anchor\x00" + secret.encode()).digest()


def _key_file(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32))
        fh.flush()
        os.fsync(fh.fileno())
    return path.read_text(encoding="ascii").strip()


def anchor_mac(key: bytes, count: int, head_id: int, head_hash: str) -> str:
    """HMAC-SHA256 of the chain's length and newest entry."""
    message = f"citygrowth-audit|{count}|{head_id}|{head_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _signed(anchor: AuditAnchor, key: bytes | None) -> bool:
    return key is not None and hmac.compare_digest(
        anchor.mac, anchor_mac(key, anchor.entry_count, anchor.head_id, anchor.head_hash))


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
    _move_anchor(session, entry, first=last is None)
    return entry


def _move_anchor(session: Session, entry: AuditEntry, first: bool) -> None:
    """Count the new entry into the anchor and sign it — only if it was validly signed before
    (a tampered anchor stays broken rather than being signed anew); a chain's very first entry
    makes the anchor."""
    key: bytes | None = session.info.get(AUDIT_KEY)
    anchor = session.get(AuditAnchor, ANCHOR_ID)
    if anchor is None:
        if not first or key is None:
            return  # an unanchored chain (an older store, or the anchor was deleted)
        anchor = AuditAnchor(id=ANCHOR_ID, entry_count=0, head_id=0, head_hash=GENESIS, mac="")
        session.add(anchor)
        valid = True
    else:
        valid = _signed(anchor, key)
    anchor.entry_count += 1
    anchor.head_id, anchor.head_hash = entry.id, entry.entry_hash
    anchor.updated_at = entry.at
    if valid and key is not None:
        anchor.mac = anchor_mac(key, anchor.entry_count, anchor.head_id, anchor.head_hash)
    session.flush()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""
    head_id: int | None = None
    head_hash: str | None = None
    #: the links hold; what is wrong is the chain's end against its anchor
    at_anchor: bool = False


def verify(session: Session, key: bytes | None = None,
           expect: tuple[int, str] | None = None) -> VerifyResult:
    """Walk the chain in id order (the first broken link names the tampered entry), then hold
    its length and newest entry against the signed anchor (``key``: the session's audit key by
    default). ``expect``: (count, hash) noted earlier elsewhere — the chain's entry number
    ``count`` must still have that hash."""
    key = key if key is not None else session.info.get(AUDIT_KEY)
    prev = GENESIS
    checked = 0
    head: AuditEntry | None = None
    expected_seen = expect is None or expect[0] == 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        if entry.prev_hash != prev:
            return VerifyResult(False, checked, entry.id,
                                N_("an earlier entry was deleted or altered"))
        if compute_hash(entry) != entry.entry_hash:
            return VerifyResult(False, checked, entry.id, N_("this entry was altered"))
        prev = entry.entry_hash
        checked += 1
        head = entry
        if expect is not None and checked == expect[0]:
            if entry.entry_hash != expect[1]:
                return VerifyResult(False, checked, entry.id, N_(
                    "this entry is not the one noted earlier: the chain was rolled back or "
                    "rewritten"))
            expected_seen = True
    head_id, head_hash = (head.id, head.entry_hash) if head is not None else (None, None)
    if not expected_seen:
        return VerifyResult(False, checked, head_id, N_(
            "the chain is shorter than noted earlier: its newest entries were removed"),
            head_id, head_hash)
    problem = _anchor_problem(session, key, checked, head)
    if problem:
        return VerifyResult(False, checked, head_id, problem, head_id, head_hash, True)
    return VerifyResult(True, checked, None, "", head_id, head_hash)


def _anchor_problem(session: Session, key: bytes | None, count: int,
                    head: AuditEntry | None) -> str:
    anchor = session.get(AuditAnchor, ANCHOR_ID)
    if anchor is None:
        return "" if count == 0 else N_(
            "the chain has no anchor, so removal of its newest entries would go unnoticed "
            "(after an upgrade, run `citygrowth audit anchor` once)")
    if key is None:
        return N_("no audit key is available to check the chain's anchor")
    if not _signed(anchor, key):
        return N_("the chain's anchor does not match the audit key: it was altered, or the "
                  "key changed (then run `citygrowth audit anchor`)")
    if anchor.entry_count > count:
        return N_("entries were removed from the end of the chain")
    if head is None or anchor.head_id != head.id or anchor.head_hash != head.entry_hash \
            or anchor.entry_count != count:
        return N_("the chain does not end where its signed anchor says: it was rewritten or "
                  "extended outside the application")
    return ""


@dataclass(frozen=True)
class AnchorResult:
    count: int
    head_id: int | None
    head_hash: str | None
    previous: dict[str, Any] | None


def reanchor(session: Session, actor: Actor, key: bytes, reason: str) -> AnchorResult:
    """Sign the anchor anew for the chain as it is now (after an upgrade, or a change of the
    audit key) — an operator's act, itself written to the chain first. Refuses a chain whose
    links are broken: that damage must be looked into, not signed over."""
    require(actor, ANCHOR_PERMISSION)
    links = verify(session, key=key)
    if not links.ok and not links.at_anchor:
        raise Conflict("The audit log is broken at entry {id} ({reason}); an anchor is not "
                       "signed over a broken chain.", code="audit_broken", id=links.first_bad_id,
                       reason=translate(links.reason))
    old = session.get(AuditAnchor, ANCHOR_ID)
    previous = None if old is None else {"count": old.entry_count, "head_id": old.head_id,
                                         "head_hash": old.head_hash,
                                         "was_valid": _signed(old, key)}
    entry = record(session, actor, "audit.anchor", "audit_log",
                   {"reason": reason, "previous": previous})
    count = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    anchor = session.get(AuditAnchor, ANCHOR_ID)
    if anchor is None:
        anchor = AuditAnchor(id=ANCHOR_ID)
        session.add(anchor)
    anchor.entry_count, anchor.head_id, anchor.head_hash = count, entry.id, entry.entry_hash
    anchor.mac = anchor_mac(key, count, entry.id, entry.entry_hash)
    anchor.updated_at = entry.at
    session.flush()
    return AnchorResult(count, entry.id, entry.entry_hash, previous)
