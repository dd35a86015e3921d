"""Who may do what: owners and co-owners report, other departments may not; leads are shared."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability import investment, projects, targets
from citygrowth.accountability.models import Lead, LeadEvent
from citygrowth.accountability.schemas import (
    CloseIn,
    EnterpriseIn,
    FollowUpIn,
    LeadIn,
    ProblemIn,
    ProgressIn,
    ProjectIn,
    ResolveIn,
    StageIn,
)
from citygrowth.auth.actor import ANONYMOUS, Actor, Grant, system_actor
from citygrowth.errors import Forbidden, Unauthenticated
from tests.accountability.conftest import school_target, setup_district
from tests.factories import DISTRICT, STREET_A

TODAY = dt.date(2026, 6, 1)


def officer(session: Session, dept: str) -> Actor:
    """A department officer of ``dept`` for the whole district (the department exists)."""
    return Actor(user_id=len(dept), username=f"officer-{dept}",
                 grants=(Grant("department_officer", DISTRICT, dept),))


def role(name: str, area: str = DISTRICT) -> Actor:
    return Actor(user_id=99, username=name, grants=(Grant(name, area),))


def test_owner_and_co_owner_report_but_another_department_may_not(session: Session) -> None:
    setup_district(session)
    t = school_target(session)
    report = ProgressIn(reported_on=dt.date(2026, 5, 1), value=6)
    r1 = targets.report_progress(session, officer(session, "education"), t.id, report)
    r2 = targets.report_progress(session, officer(session, "housing"), t.id,
                                 ProgressIn(reported_on=dt.date(2026, 5, 20), value=7))
    assert (r1.department_code, r2.department_code) == ("education", "housing")
    with pytest.raises(Forbidden) as exc:
        targets.report_progress(session, officer(session, "urban"), t.id, report)
    assert exc.value.params == {"permission": "target.report"}
    analyst = role("analyst")
    with pytest.raises(Forbidden):
        targets.report_progress(session, analyst, t.id, report)
    with pytest.raises(Unauthenticated):
        targets.report_progress(session, ANONYMOUS, t.id, report)
    # everyone with the view permission reads the same status
    rows = targets.list_targets(session, analyst, TODAY)
    assert [(r["code"], r["latest_value"]) for r in rows] == [("T-SCHOOLS", 7.0)]


def test_department_page_lists_co_owned_targets(sqlite_session: Session) -> None:
    session = sqlite_session
    setup_district(session)
    school_target(session)
    admin = role("district_admin")
    assert [r["code"] for r in targets.list_targets(session, admin, TODAY, "housing")] == \
        ["T-SCHOOLS"]
    assert targets.list_targets(session, admin, TODAY, "urban") == []


def test_street_commander_sees_only_targets_in_their_street(sqlite_session: Session) -> None:
    session = sqlite_session
    setup_district(session)
    school_target(session)
    school_target(session, code="T-STREET", area_code=STREET_A)
    cmd = role("street_commander", STREET_A)
    assert [r["code"] for r in targets.list_targets(session, cmd, TODAY)] == ["T-STREET"]


def _lead(session: Session) -> tuple[Lead, object, object]:
    sci, ind = officer(session, "science"), officer(session, "industry")
    ent = investment.create_enterprise(session, sci, EnterpriseIn(
        name_zh="示例海洋科技企业", industry="blue_economy", area_code=STREET_A))
    lead = investment.create_lead(session, sci, LeadIn(
        enterprise_id=ent.id, title_zh="海洋科技研发中心落户", industry="blue_economy",
        department_code="science", area_code=STREET_A, expected_wan=50_000))
    return lead, sci, ind


def test_leads_are_shared_and_only_the_holder_moves_or_closes_them(session: Session) -> None:
    setup_district(session)
    lead, sci, ind = _lead(session)
    # the other department sees the lead and may follow it up
    assert [r["id"] for r in investment.list_leads(session, ind)] == [lead.id]
    investment.follow_up(session, ind, lead.id, FollowUpIn(note="经信局对接用地需求"))
    with pytest.raises(Forbidden):
        investment.change_stage(session, ind, lead.id, StageIn(stage="contacted"))
    with pytest.raises(Forbidden):
        investment.close_lead(session, ind, lead.id, CloseIn(reason="不是我们的"))
    investment.change_stage(session, sci, lead.id, StageIn(stage="contacted"))
    investment.close_lead(session, sci, lead.id, CloseIn(reason="企业暂缓"))
    # closed, never deleted: still listed for everyone, with its whole history
    rows = investment.list_leads(session, ind)
    assert [(r["id"], r["closed"], r["stage"]) for r in rows] == [(lead.id, True, "contacted")]
    kinds = [e["kind"] for e in investment.lead_history(session, ind, lead.id)]
    assert kinds == ["created", "follow_up", "stage", "closed"]
    assert session.scalars(select(LeadEvent.department_code).order_by(LeadEvent.id)).all() == \
        ["science", "industry", "science", "science"]


def test_service_request_is_routed_and_only_that_department_updates_it(
        sqlite_session: Session) -> None:
    session = sqlite_session
    from citygrowth.accountability.schemas import RequestUpdateIn, ServiceRequestIn

    setup_district(session)
    lead, sci, _ind = _lead(session)
    req = investment.create_service_request(session, sci, ServiceRequestIn(
        enterprise_id=lead.enterprise_id, lead_id=lead.id, topic="talent",
        description="需要人才公寓"), TODAY)
    assert req.department_code == "hrss"
    assert req.due_on == dt.date(2026, 6, 8)  # 5 working days after Mon 1 June 2026
    with pytest.raises(Forbidden):
        investment.update_service_request(session, sci, req.id, RequestUpdateIn(status="done"))
    done = investment.update_service_request(session, officer(session, "hrss"), req.id,
                                             RequestUpdateIn(status="done", response="已安排"))
    assert done.status == "done" and done.resolved_at is not None


def test_only_the_responsible_department_resolves_a_coordination_problem(
        sqlite_session: Session) -> None:
    session = sqlite_session
    setup_district(session)
    p = projects.create_project(session, system_actor(), ProjectIn(
        code="KP-1", name_zh="海洋科技创新中心", industry="blue_economy",
        department_code="ndrc", area_code=STREET_A, total_wan=100_000, start_year=2025,
        end_year=2027))
    problem = projects.raise_problem(session, officer(session, "ndrc"), p.id, ProblemIn(
        description="用地指标待协调", owner_department_code="urban",
        deadline=dt.date(2026, 7, 1)))
    with pytest.raises(Forbidden):
        projects.resolve_problem(session, officer(session, "ndrc"), problem.id,
                                 ResolveIn(resolution="已解决"))
    with pytest.raises(Forbidden):  # another department may not escalate on ndrc's project
        projects.raise_problem(session, officer(session, "urban"), p.id, ProblemIn(
            description="x", owner_department_code="urban", deadline=dt.date(2026, 7, 1)))
    done = projects.resolve_problem(session, officer(session, "urban"), problem.id,
                                    ResolveIn(resolution="已调剂用地指标"))
    assert done.status == "resolved"
    assert projects.open_problems(session, system_actor()) == []
