"""The in-app inbox channel: a dispatched case appears at once in the department's inbox
(``/command/inbox``), unread until an officer of the department opens it; the navigation
shows the unread count."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session
from starlette.requests import Request

from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import can, departments_for, require
from citygrowth.governance.delivery.models import CaseDelivery, InboxItem
from citygrowth.web.deps import runtime_of

NAME = "inbox"
PERMISSION = "case.handle"


def deliver(session: Session, delivery: CaseDelivery, now: dt.datetime) -> None:
    """Put the case in the department's inbox (inside the dispatch's own transaction)."""
    session.add(InboxItem(department_code=delivery.department_code, case_id=delivery.case_id,
                          delivery_id=delivery.id, action=delivery.action, created_at=now,
                          read_by=""))
    delivery.state, delivery.sent_at, delivery.attempts = "sent", now, 1
    delivery.last_attempt_at, delivery.next_attempt_at = now, None
    delivery.receipt = NAME


def departments(actor: Actor) -> list[str] | None:
    """The departments whose inbox ``actor`` reads (None: all, for the system)."""
    depts = departments_for(actor, PERMISSION)
    return None if depts is None else sorted(depts)


def _scoped(q: Select[InboxItem], actor: Actor) -> Select[InboxItem]:
    depts = departments(actor)
    if depts is not None:
        q = q.where(InboxItem.department_code.in_(depts))
    return q


def unread_count(session: Session, actor: Actor) -> int:
    """Unread items in the inboxes ``actor`` reads (0 for anyone who reads none)."""
    if not actor.department_codes:
        return 0
    q = _scoped(select(InboxItem).where(InboxItem.read_at.is_(None)), actor)
    return int(session.scalar(select(func.count()).select_from(q.subquery())) or 0)


def items(session: Session, actor: Actor, unread_only: bool = False,
          limit: int = 200) -> list[InboxItem]:
    """The inbox of ``actor``'s departments, unread first, newest first."""
    require(actor, PERMISSION, None)
    q = _scoped(select(InboxItem), actor)
    if unread_only:
        q = q.where(InboxItem.read_at.is_(None))
    q = q.order_by(InboxItem.read_at.is_not(None), InboxItem.created_at.desc(),
                   InboxItem.id.desc())
    return list(session.scalars(q.limit(max(1, min(limit, 1000)))))


def mark_read(session: Session, actor: Actor, case_id: int, now: dt.datetime) -> int:
    """Mark the case's unread items in ``actor``'s inboxes read (when an officer opens it)."""
    depts = departments(actor)
    if depts == []:
        return 0
    stmt = update(InboxItem).where(InboxItem.case_id == case_id, InboxItem.read_at.is_(None))
    if depts is not None:
        stmt = stmt.where(InboxItem.department_code.in_(depts))
    result = session.execute(stmt.values(read_at=now, read_by=actor.username[:80]))
    return int(getattr(result, "rowcount", 0) or 0)


def note_unread(request: Request, session: Session, actor: Actor) -> int:
    """The unread count as the request's own session sees it — with the items this request
    marked read, not yet committed — kept for the navigation's badge of the same page."""
    count = unread_count(session, actor)
    request.state.inbox_unread = count
    return count


def badge(request: Request, actor: Actor) -> int | None:
    """The unread count beside the inbox in the navigation (officers of a department)."""
    if not actor.department_codes or not can(actor, PERMISSION):
        return None
    noted: int | None = getattr(request.state, "inbox_unread", None)
    if noted is not None:
        return noted or None
    with runtime_of(request).sessionmaker() as session:
        return unread_count(session, actor) or None
