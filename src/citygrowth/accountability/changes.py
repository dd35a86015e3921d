"""The desk's recent changes: every update an officer makes, for the leader's overview.

Each service that changes a project, an approval, a lead, a service request or a target's
progress calls :func:`note` next to its audit ``record`` (same transaction). :func:`recent`
lists the newest changes the reader may see (area scope; the investment desk's only with
``investment.view``) as sentences in the reader's language: department and stage names are
looked up when the feed is read, never stored as display text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.common import (
    APPROVAL_OUTCOME_NAMES,
    LEAD_STAGE_NAMES,
    PROJECT_STAGE_NAMES,
    REQUEST_STATUS_NAMES,
    department_names,
    label,
)
from citygrowth.accountability.models import Change
from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import can, scope_prefixes
from citygrowth.db import utcnow
from citygrowth.errors import fill
from citygrowth.i18n import N_, _, bilingual
from citygrowth.keyset import keyset

FEED_LIMIT = 20
DESK_SUBJECTS = ("lead", "request")

SENTENCES = {
    "project.milestone_done": N_("milestone “{milestone}” done on {date}"),
    "project.milestone_moved": N_("milestone “{milestone}” moved from {old} to {new}: {reason}"),
    "project.milestone_added": N_("milestone “{milestone}” added, due {date}"),
    "project.stage": N_("stage changed from {old_stage} to {new_stage}"),
    "project.investment": N_("{amount} ten-thousand yuan invested in {period} reported"),
    "project.blocker_raised": N_("problem raised for {owner}: {text}"),
    "project.blocker_resolved": N_("problem resolved: {text}"),
    "approval.accepted": N_("application accepted (受理), time limit {limit} working days"),
    "approval.step": N_("step “{step}” recorded"),
    "approval.completed": N_("completed (办结): {outcome} after {days} working day(s)"),
    "lead.created": N_("lead entered"),
    "lead.stage": N_("moved from {old_stage} to {new_stage}"),
    "lead.follow_up": N_("follow-up: {note}"),
    "lead.handover": N_("handed over to {to}, waiting for acceptance"),
    "lead.accepted": N_("hand-over accepted by {to}"),
    "lead.refused": N_("hand-over refused by {to}: {reason}"),
    "lead.closed": N_("closed: {reason}"),
    "request.created": N_("service request routed to {to}, due {due}"),
    "request.updated": N_("service request {status}"),
    "target.progress": N_("progress reported: {value}"),
}
SUBJECT_NAMES = {"project": N_("Key project"), "approval": N_("Approval"),
                 "lead": N_("Lead"), "request": N_("Service request"),
                 "target": N_("Accountability target")}
LINKS = {"project": "/projects/{id}", "approval": "/approvals/{id}",
         "lead": "/investment/leads/{id}", "request": "/investment#request-{id}",
         "target": "/targets/{id}"}
# detail keys holding a code to be named in the reader's language
DEPARTMENT_KEYS = ("owner", "to")
STAGE_KEYS = {"old_stage", "new_stage"}


class Located(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def area_code(self) -> str: ...


def acting_department(actor: Actor, preferred: str | None = None) -> str | None:
    """The department an officer acts for: ``preferred`` when it is theirs, else their first."""
    codes = actor.department_codes
    if preferred in codes:
        return preferred
    return min(codes) if codes else None


def note(session: Session, actor: Actor, kind: str, subject: str, record: Located,
         department: str | None, name: tuple[str, str], **detail: Any) -> Change:
    """Add one line to the feed (in the caller's transaction). ``name`` is the record's
    (Chinese, English) name; ``detail`` fills the sentence of ``kind``."""
    change = Change(at=utcnow(), actor=actor.username,
                    actor_department=acting_department(actor, department), kind=kind,
                    subject=subject, subject_id=record.id, area_code=record.area_code,
                    department_code=department,
                    detail={"name_zh": name[0], "name_en": name[1],
                            "actor_name": actor.display_name or actor.username,
                            **_plain(detail)})
    session.add(change)
    session.flush()
    return change


def _plain(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in detail.items()}


def _visible(actor: Actor) -> tuple[list[str] | None, bool]:
    return scope_prefixes(actor, "accountability.view"), can(actor, "investment.view")


def recent(session: Session, actor: Actor, tz: ZoneInfo, limit: int = FEED_LIMIT,
           subject: str | None = None, subject_id: int | None = None,
           after: tuple[dt.datetime, int] | None = None) -> list[dict[str, Any]]:
    """The newest changes the reader may see, newest first (older than the change whose
    ``(at, id)`` is ``after``, if given), rendered for display."""
    prefixes, desk = _visible(actor)
    if prefixes == []:
        return []
    stmt = select(Change).order_by(Change.at.desc(), Change.id.desc())
    if (cond := keyset([(Change.at, True), (Change.id, True)], after)) is not None:
        stmt = stmt.where(cond)
    if subject is not None:
        stmt = stmt.where(Change.subject == subject)
    if subject_id is not None:
        stmt = stmt.where(Change.subject_id == subject_id)
    out: list[dict[str, Any]] = []
    names = department_names(session)
    for change in session.scalars(stmt.limit(limit * 5)):
        if prefixes is not None and not any(change.area_code.startswith(p) for p in prefixes):
            continue
        if change.subject in DESK_SUBJECTS and not desk:
            continue
        out.append(render(change, names, tz))
        if len(out) >= limit:
            break
    return out


def render(change: Change, names: dict[str, str], tz: ZoneInfo) -> dict[str, Any]:
    d = change.detail or {}
    params = {k: _value(k, v, names) for k, v in d.items()}
    if "unit_zh" in d or "unit_en" in d:
        params["value"] = f"{d.get('value', '')} {bilingual(d.get('unit_zh'), d.get('unit_en'))}"
    who = names.get(change.actor_department or "", "")
    return {
        "id": change.id, "kind": change.kind, "subject": change.subject,
        "subject_id": change.subject_id, "at": change.at.isoformat(),
        "time": change.at.astimezone(tz).strftime("%m-%d %H:%M"),
        "actor": d.get("actor_name") or change.actor, "username": change.actor,
        "department": who,
        "subject_name": _(SUBJECT_NAMES.get(change.subject, change.subject)),
        "name": bilingual(d.get("name_zh"), d.get("name_en")),
        "link": LINKS.get(change.subject, "").format(id=change.subject_id),
        "text": fill(_(SENTENCES.get(change.kind, change.kind)), params),
    }


def _value(key: str, value: Any, names: dict[str, str]) -> Any:
    if key in DEPARTMENT_KEYS and isinstance(value, str):
        return names.get(value, value)
    if key in STAGE_KEYS and isinstance(value, str):
        return label({**PROJECT_STAGE_NAMES, **LEAD_STAGE_NAMES}, value)
    if key == "outcome" and isinstance(value, str):
        return label(APPROVAL_OUTCOME_NAMES, value)
    if key == "status" and isinstance(value, str):
        return label(REQUEST_STATUS_NAMES, value)
    return value
