"""Writing the send records of a step that hands a case to its department, in the step's own
transaction (called by ``lifecycle.transition``): nothing is sent from here but the inbox, so a
dispatch is never slowed or undone by a department's system."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.governance.delivery import inbox
from citygrowth.governance.delivery.models import CaseDelivery, DepartmentChannel
from citygrowth.governance.models import Case, CaseEvent

SENDS_ON = frozenset({"dispatch", "rework"})  # the steps that hand a case to a department


def enqueue(session: Session, case: Case, event: CaseEvent,
            now: dt.datetime) -> list[CaseDelivery]:
    """The inbox record (delivered at once) and one pending record per active channel of the
    case's department."""
    if event.action not in SENDS_ON or not case.department_code:
        return []
    session.flush()  # the event's id
    names = [inbox.NAME, *session.scalars(
        select(DepartmentChannel.channel).where(
            DepartmentChannel.department_code == case.department_code,
            DepartmentChannel.active.is_(True)).order_by(DepartmentChannel.channel))]
    out = []
    for name in names:
        d = CaseDelivery(case_id=case.id, event_id=event.id, action=event.action,
                         department_code=case.department_code, channel=name, state="pending",
                         attempts=0, last_error="", receipt="", created_at=now,
                         next_attempt_at=now)
        session.add(d)
        out.append(d)
    session.flush()
    inbox.deliver(session, out[0], now)
    return out
