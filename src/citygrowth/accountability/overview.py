"""The leader's overview of the desk: counts that move as officers work (projects, approvals,
the investment desk), each within the reader's scope."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from citygrowth.accountability import approvals, investment, projects
from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import can
from citygrowth.workdays import STATUTORY, HolidayCalendar


def desk_counts(session: Session, actor: Actor, today: dt.date, tz: ZoneInfo,
                calendar: HolidayCalendar = STATUTORY) -> dict[str, Any]:
    """Projects (under construction, late milestones, open problems, investment reported this
    month), approvals (being handled, over the limit, completed this month) and — for readers
    of the investment desk — hand-overs waiting and service requests open or overdue."""
    month = f"{today.year:04d}-{today.month:02d}"
    visible = projects.visible_projects(session, actor)
    pending = approvals.pending_items(session, actor, today, tz, calendar)
    first = dt.datetime(today.year, today.month, 1, tzinfo=tz)
    done_this_month = [i for i in approvals.visible_approvals(session, actor,
                                                              decided_since=first)
                       if i.approved_at is not None]
    out: dict[str, Any] = {
        "projects": {
            "total": len(visible),
            "construction": sum(1 for p in visible if p.stage == "construction"),
            "late_milestones": sum(1 for p in visible for m in p.milestones
                                   if m.done_on is None and m.due_date < today),
            "open_problems": sum(1 for p in visible for x in p.problems if x.status == "open"),
            "reported_this_month": sum(1 for p in visible
                                       if any(i.period == month for i in p.investments)),
        },
        "approvals": {"pending": len(pending),
                      "overdue": sum(1 for a in pending if a["overdue"]),
                      "completed_this_month": len(done_this_month)},
        "desk": None,
    }
    if can(actor, "investment.view"):
        board = investment.board(session, actor, today)
        requests = [r for rows in board["requests"].values() for r in rows]
        out["desk"] = {"handovers": len(board["handovers"]),
                       "open_requests": sum(1 for r in requests if r["status"] != "done"),
                       "overdue_requests": board["overdue_requests"],
                       "open_leads": sum(len(c["leads"]) for c in board["columns"])}
    return out
