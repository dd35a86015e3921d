"""Every write of the desk checks its permission before anything else (CKAN's rule): a reader
(analyst) is refused each one, and nothing reaches the store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citygrowth.accountability import approvals, investment, projects, updates
from citygrowth.accountability.models import (
    ApprovalItem,
    Change,
    Enterprise,
    Lead,
    Project,
    ProjectProblem,
    ServiceRequest,
)
from citygrowth.accountability.schemas import (
    AcceptIn,
    CloseIn,
    CompleteIn,
    FollowUpIn,
    HandOverIn,
    InvestmentIn,
    MilestoneDoneIn,
    MilestoneMoveIn,
    ProblemIn,
    ProjectMilestoneIn,
    ProjectStageIn,
    RefuseIn,
    RequestUpdateIn,
    ResolveIn,
    ServiceRequestIn,
    StageIn,
    StepIn,
)
from citygrowth.auth.actor import Actor, Grant
from citygrowth.errors import Forbidden
from tests.factories import DISTRICT, STREET_A

TZ = ZoneInfo("UTC")
NOW = dt.datetime(2026, 6, 1, 3, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 6, 1)
READER = Actor(user_id=7, username="reader", grants=(Grant("analyst", DISTRICT),))


@pytest.fixture
def sqlite_url(seeded_sqlite_url: str) -> str:
    return seeded_sqlite_url


def _ids(s: Session) -> dict[str, int]:
    p = s.scalars(select(Project).order_by(Project.id)).first()
    lead = s.scalars(select(Lead).where(Lead.closed.is_(False)).order_by(Lead.id)).first()
    assert p is not None and lead is not None
    return {
        "project": p.id, "milestone": p.milestones[0].id,
        "problem": s.scalar(select(ProjectProblem.id).where(ProjectProblem.status == "open")),
        "item": s.scalar(select(ApprovalItem.id).where(ApprovalItem.status == "pending")),
        "lead": lead.id, "enterprise": s.scalar(select(Enterprise.id)),
        "request": s.scalar(select(ServiceRequest.id).where(ServiceRequest.status != "done")),
    }


ACTIONS: dict[str, Callable[[Session, dict[str, int]], Any]] = {
    "milestone done": lambda s, i: projects.complete_milestone(
        s, READER, i["project"], MilestoneDoneIn(milestone_id=i["milestone"], done_on=TODAY),
        TODAY),
    "milestone move": lambda s, i: projects.move_milestone(
        s, READER, i["project"], MilestoneMoveIn(milestone_id=i["milestone"],
                                                 due_date=TODAY, reason="x")),
    "milestone add": lambda s, i: projects.add_milestone(
        s, READER, i["project"], ProjectMilestoneIn(title_zh="x", due_date=TODAY)),
    "stage": lambda s, i: projects.change_stage(s, READER, i["project"],
                                                ProjectStageIn(stage="completed")),
    "investment": lambda s, i: projects.record_investment(
        s, READER, i["project"], InvestmentIn(period="2026-05", completed_wan=1), TODAY),
    "problem raise": lambda s, i: projects.raise_problem(
        s, READER, i["project"], ProblemIn(description="x", owner_department_code="urban",
                                           deadline=TODAY)),
    "problem resolve": lambda s, i: projects.resolve_problem(s, READER, i["problem"],
                                                             ResolveIn(resolution="x")),
    "accept": lambda s, i: approvals.accept_approval(
        s, READER, AcceptIn(code="AP-T-1", name_zh="x", department_code="ndrc",
                            area_code=STREET_A, accepted_at=NOW), TZ, NOW),
    "step": lambda s, i: approvals.add_step(
        s, READER, i["item"], StepIn(name_zh="x", department_code="ndrc", started_at=NOW),
        TZ, NOW),
    "complete": lambda s, i: approvals.complete_approval(
        s, READER, i["item"], CompleteIn(completed_at=NOW), TZ, NOW),
    "follow-up": lambda s, i: investment.follow_up(s, READER, i["lead"], FollowUpIn(note="x")),
    "lead stage": lambda s, i: investment.change_stage(s, READER, i["lead"],
                                                       StageIn(stage="signed")),
    "hand over": lambda s, i: investment.hand_over(
        s, READER, i["lead"], HandOverIn(department_code="invest")),
    "accept hand-over": lambda s, i: (
        investment.hand_over(s, _system(), i["lead"], HandOverIn(department_code="invest")),
        investment.accept_handover(s, READER, i["lead"])),
    "refuse hand-over": lambda s, i: (
        investment.hand_over(s, _system(), i["lead"], HandOverIn(department_code="invest")),
        investment.refuse_handover(s, READER, i["lead"], RefuseIn(reason="x"))),
    "close": lambda s, i: investment.close_lead(s, READER, i["lead"], CloseIn(reason="x")),
    "request": lambda s, i: investment.create_service_request(
        s, READER, ServiceRequestIn(enterprise_id=i["enterprise"], description="x"), TODAY),
    "answer": lambda s, i: investment.update_service_request(
        s, READER, i["request"], RequestUpdateIn(status="done", response="x")),
    "import updates": lambda s, i: updates.import_updates(
        s, READER, _one_row(s.get(Project, i["project"])), "x.xlsx", TODAY),
}


def _one_row(project: Project | None) -> bytes:
    import io

    from openpyxl import Workbook

    assert project is not None
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "investment"
    ws.append(["project_code", "period", "completed_wan"])
    ws.append([project.code, "2026-05", 10])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _system() -> Actor:
    from citygrowth.auth.actor import system_actor

    return system_actor("test")


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_a_reader_is_refused(sqlite_session: Session, name: str) -> None:
    ids = _ids(sqlite_session)
    before = sqlite_session.scalar(select(func.count()).select_from(Change))
    if name == "import updates":
        # reading is allowed; every row is then refused project by project
        from citygrowth.errors import ValidationFailed

        with pytest.raises(ValidationFailed) as exc:
            ACTIONS[name](sqlite_session, ids)
        assert "project.report" in exc.value.problems[0].params["detail"]
        return
    with pytest.raises(Forbidden):
        ACTIONS[name](sqlite_session, ids)
    after = sqlite_session.scalar(select(func.count()).select_from(Change))
    expected = before + (1 if name in ("accept hand-over", "refuse hand-over") else 0)
    assert after == expected  # only the system's own offer, nothing of the reader's
