"""Key projects: portfolio, investment completed, milestones and problems for coordination.

Updates (milestone done or moved, stage, monthly investment, problems raised and resolved)
belong to the project's department (``project.report``) or the district; a street may raise a
problem for a project in its street (``project.blocker``). Each update is audited and appears
in the recent-changes feed (:mod:`.changes`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.changes import note
from citygrowth.accountability.common import (
    INDUSTRY_NAMES,
    PROBLEM_STATUS_NAMES,
    PROJECT_STAGE_NAMES,
    check_refs,
    department_names,
    get_or_404,
    label,
    raise_if,
    yi,
)
from citygrowth.accountability.models import (
    Project,
    ProjectInvestment,
    ProjectMilestone,
    ProjectProblem,
)
from citygrowth.accountability.schemas import (
    InvestmentIn,
    MilestoneDoneIn,
    MilestoneMoveIn,
    ProblemIn,
    ProjectIn,
    ProjectMilestoneIn,
    ProjectStageIn,
    ResolveIn,
)
from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import can, require, scope_prefixes
from citygrowth.db import utcnow
from citygrowth.errors import Conflict, Problem
from citygrowth.i18n import N_, bilingual


def validate_project(session: Session, data: ProjectIn, file: str | None = None,
                     row: int | None = None) -> list[Problem]:
    problems = check_refs(session, [data.department_code], [data.area_code], file, row)
    if data.end_year < data.start_year:
        problems.append(Problem(N_("The end year must not come before the start year."),
                                file=file, row=row, field="end_year", value=data.end_year))
    return problems


def apply_project(session: Session, data: ProjectIn, project: Project | None = None) -> Project:
    fields = data.model_dump()
    if project is None:
        project = Project(**fields)
        session.add(project)
    else:
        for k, v in fields.items():
            setattr(project, k, v)
        project.updated_at = utcnow()
    session.flush()
    return project


def create_project(session: Session, actor: Actor, data: ProjectIn) -> Project:
    require(actor, "project.manage", {"area_code": data.area_code,
                                      "department_code": data.department_code})
    raise_if(validate_project(session, data))
    if session.scalar(select(Project.id).where(Project.code == data.code)):
        raise Conflict("A project with code {code} already exists.", code=data.code)
    project = apply_project(session, data)
    record(session, actor, "project.create", f"project:{project.code}")
    return project


def _name(p: Project) -> tuple[str, str]:
    return p.name_zh, p.name_en


def _editable(session: Session, actor: Actor, project_id: int) -> Project:
    project = get_or_404(session, Project, project_id, N_("Key project"))
    require(actor, "project.report", project)
    return project


def _milestone(project: Project, milestone_id: int) -> ProjectMilestone:
    found = next((m for m in project.milestones if m.id == milestone_id), None)
    if found is None:
        raise_if([Problem(N_("This milestone does not belong to the project."),
                          field="milestone_id", value=milestone_id)])
    assert found is not None
    return found


def _not_future(day: dt.date, today: dt.date, field: str) -> None:
    if day > today:
        raise_if([Problem(N_("The date {date} lies in the future."), {"date": day.isoformat()},
                          field=field, value=day.isoformat())])


def complete_milestone(session: Session, actor: Actor, project_id: int, data: MilestoneDoneIn,
                       today: dt.date) -> ProjectMilestone:
    """Mark a milestone done on a date (not in the future)."""
    project = _editable(session, actor, project_id)
    m = _milestone(project, data.milestone_id)
    _not_future(data.done_on, today, "done_on")
    if m.done_on is not None:
        raise Conflict("This milestone was already done on {date}.", date=m.done_on.isoformat())
    m.done_on = data.done_on
    project.updated_at = utcnow()
    session.flush()
    record(session, actor, "project.milestone.done", f"project:{project.code}",
           {"milestone": m.id, "done_on": data.done_on.isoformat()})
    note(session, actor, "project.milestone_done", "project", project, project.department_code,
         _name(project), milestone=m.title_zh, date=data.done_on)
    return m


def move_milestone(session: Session, actor: Actor, project_id: int,
                   data: MilestoneMoveIn) -> ProjectMilestone:
    """Give an open milestone a new due date, with the reason (the first date is kept)."""
    project = _editable(session, actor, project_id)
    m = _milestone(project, data.milestone_id)
    if m.done_on is not None:
        raise Conflict("This milestone was already done on {date}.", date=m.done_on.isoformat())
    if data.due_date == m.due_date:
        raise_if([Problem(N_("The new date is the same as the current one."), field="due_date",
                          value=data.due_date.isoformat())])
    old = m.due_date
    m.original_due_date = m.original_due_date or old
    m.due_date = data.due_date
    m.note = data.reason
    project.updated_at = utcnow()
    session.flush()
    record(session, actor, "project.milestone.move", f"project:{project.code}",
           {"milestone": m.id, "from": old.isoformat(), "to": data.due_date.isoformat(),
            "reason": data.reason})
    note(session, actor, "project.milestone_moved", "project", project, project.department_code,
         _name(project), milestone=m.title_zh, old=old, new=data.due_date, reason=data.reason)
    return m


def add_milestone(session: Session, actor: Actor, project_id: int,
                  data: ProjectMilestoneIn) -> ProjectMilestone:
    project = _editable(session, actor, project_id)
    m = ProjectMilestone(title_zh=data.title_zh, title_en=data.title_en, due_date=data.due_date)
    project.milestones.append(m)
    project.updated_at = utcnow()
    session.flush()
    record(session, actor, "project.milestone.add", f"project:{project.code}", {"milestone": m.id})
    note(session, actor, "project.milestone_added", "project", project, project.department_code,
         _name(project), milestone=m.title_zh, date=data.due_date)
    return m


def change_stage(session: Session, actor: Actor, project_id: int,
                 data: ProjectStageIn) -> Project:
    """Move a project to another stage; going back a stage needs a note saying why."""
    project = _editable(session, actor, project_id)
    if data.stage == project.stage:
        raise_if([Problem(N_("The project is already at this stage."), field="stage",
                          value=data.stage)])
    order = list(PROJECT_STAGE_NAMES)
    if order.index(data.stage) < order.index(project.stage) and not data.note:
        raise_if([Problem(N_("Say why the project goes back a stage."), field="note")])
    old, project.stage = project.stage, data.stage
    project.updated_at = utcnow()
    session.flush()
    record(session, actor, "project.stage", f"project:{project.code}",
           {"from": old, "to": data.stage, "note": data.note})
    note(session, actor, "project.stage", "project", project, project.department_code,
         _name(project), old_stage=old, new_stage=data.stage)
    return project


def record_investment(session: Session, actor: Actor, project_id: int,
                      data: InvestmentIn, today: dt.date | None = None) -> ProjectInvestment:
    """Set the investment planned and completed in one month (replaces that month's figure);
    months after the current one are refused."""
    project = _editable(session, actor, project_id)
    if today is not None and data.period > f"{today.year:04d}-{today.month:02d}":
        raise_if([Problem(N_("The month {period} has not begun yet."), {"period": data.period},
                          field="period", value=data.period)])
    row = next((i for i in project.investments if i.period == data.period), None)
    if row is None:
        row = ProjectInvestment(project_id=project.id, period=data.period)
        project.investments.append(row)
    row.completed_wan = data.completed_wan
    row.planned_wan = data.planned_wan
    project.updated_at = utcnow()
    session.flush()
    record(session, actor, "project.investment", f"project:{project.code}",
           {"period": data.period, "completed_wan": data.completed_wan})
    note(session, actor, "project.investment", "project", project, project.department_code,
         _name(project), amount=f"{data.completed_wan:,}", period=data.period)
    return row


def raise_problem(session: Session, actor: Actor, project_id: int,
                  data: ProblemIn) -> ProjectProblem:
    """Escalate a problem for coordination, naming the department that must solve it. The
    project's department, the district, or the street the project lies in may."""
    project = get_or_404(session, Project, project_id, N_("Key project"))
    require(actor, "project.blocker", project)
    raise_if(check_refs(session, [data.owner_department_code], []))
    problem = ProjectProblem(project_id=project.id, description=data.description,
                             owner_department_code=data.owner_department_code,
                             deadline=data.deadline, raised_by=actor.username)
    project.problems.append(problem)
    session.flush()
    record(session, actor, "project.problem", f"project:{project.code}",
           {"problem": problem.id, "owner": data.owner_department_code})
    note(session, actor, "project.blocker_raised", "project", project, project.department_code,
         _name(project), owner=data.owner_department_code, text=data.description)
    return problem


def resolve_problem(session: Session, actor: Actor, problem_id: int,
                    data: ResolveIn) -> ProjectProblem:
    """Close a coordination problem; only its owner department (or the district) may."""
    problem = get_or_404(session, ProjectProblem, problem_id, N_("Coordination problem"))
    project = session.get(Project, problem.project_id)
    require(actor, "project.report", {"area_code": project.area_code if project else None,
                                      "department_code": problem.owner_department_code})
    if problem.status == "resolved":
        raise Conflict("This problem is already resolved.")
    problem.status = "resolved"
    problem.resolution = data.resolution
    problem.resolved_at = utcnow()
    session.flush()
    record(session, actor, "project.problem.resolve", f"problem:{problem.id}")
    if project is not None:
        note(session, actor, "project.blocker_resolved", "project", project,
             problem.owner_department_code, _name(project), text=problem.description,
             resolution=data.resolution)
    return problem


def can_resolve(actor: Actor, project: Project, problem: ProjectProblem) -> bool:
    return can(actor, "project.report", {"area_code": project.area_code,
                                         "department_code": problem.owner_department_code})


def visible_projects(session: Session, actor: Actor) -> list[Project]:
    require(actor, "accountability.view", None)
    projects = list(session.scalars(select(Project).order_by(Project.code)))
    prefixes = scope_prefixes(actor, "accountability.view")
    if prefixes is not None:
        projects = [p for p in projects if any(p.area_code.startswith(x) for x in prefixes)]
    return projects


def project_row(p: Project, names: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "id": p.id, "code": p.code, "name": bilingual(p.name_zh, p.name_en),
        "name_zh": p.name_zh, "name_en": p.name_en, "industry": p.industry,
        "industry_name": label(INDUSTRY_NAMES, p.industry), "stage": p.stage,
        "stage_name": label(PROJECT_STAGE_NAMES, p.stage),
        "department_code": p.department_code,
        "department": (names or {}).get(p.department_code, p.department_code),
        "area_code": p.area_code,
        "total_yi": yi(p.total_wan), "total_wan": p.total_wan,
        "completed_yi": yi(p.completed_wan), "start_year": p.start_year,
        "end_year": p.end_year, "lon": p.lon, "lat": p.lat,
        "open_problems": sum(1 for x in p.problems if x.status == "open"),
        "illustrative": p.illustrative,
    }


def list_projects(session: Session, actor: Actor, industry: str | None = None,
                  stage: str | None = None) -> list[dict[str, Any]]:
    names = department_names(session)
    rows = [project_row(p, names) for p in visible_projects(session, actor)]
    return [r for r in rows if (industry is None or r["industry"] == industry)
            and (stage is None or r["stage"] == stage)]


def portfolio(session: Session, actor: Actor) -> dict[str, Any]:
    """Counts and investment by industry and by stage; exact totals in 万元 and 亿元."""
    projects = visible_projects(session, actor)
    by_industry: dict[str, dict[str, Any]] = defaultdict(lambda: {"count": 0, "total_wan": 0,
                                                                  "completed_wan": 0})
    by_stage: dict[str, dict[str, Any]] = defaultdict(lambda: {"count": 0, "total_wan": 0})
    for p in projects:
        bi = by_industry[p.industry]
        bi["count"] += 1
        bi["total_wan"] += p.total_wan
        bi["completed_wan"] += p.completed_wan
        bs = by_stage[p.stage]
        bs["count"] += 1
        bs["total_wan"] += p.total_wan
    total = sum(p.total_wan for p in projects)
    return {
        "count": len(projects), "total_wan": total, "total_yi": yi(total),
        "completed_yi": yi(sum(p.completed_wan for p in projects)),
        "illustrative": any(p.illustrative for p in projects),
        "by_industry": [{"industry": k, "name": label(INDUSTRY_NAMES, k), **v,
                         "total_yi": yi(v["total_wan"]), "completed_yi": yi(v["completed_wan"])}
                        for k, v in sorted(by_industry.items(),
                                           key=lambda kv: -kv[1]["total_wan"])],
        "by_stage": [{"stage": k, "name": label(PROJECT_STAGE_NAMES, k), **v,
                      "total_yi": yi(v["total_wan"])}
                     for k, v in sorted(by_stage.items(),
                                        key=lambda kv: list(PROJECT_STAGE_NAMES).index(kv[0])
                                        if kv[0] in PROJECT_STAGE_NAMES else 99)],
    }


def open_problems(session: Session, actor: Actor) -> list[dict[str, Any]]:
    names = department_names(session)
    out = []
    for p in visible_projects(session, actor):
        for x in p.problems:
            if x.status == "open":
                out.append({"id": x.id, "project_id": p.id, "project": bilingual(p.name_zh,
                                                                                 p.name_en),
                            "description": x.description,
                            "owner_department_code": x.owner_department_code,
                            "owner_department": names.get(x.owner_department_code,
                                                          x.owner_department_code),
                            "deadline": x.deadline.isoformat()})
    return sorted(out, key=lambda r: r["deadline"])


def project_detail(session: Session, actor: Actor, project_id: int,
                   today: dt.date) -> dict[str, Any]:
    """One project for its page and JSON twin: facts, investment to date, milestones (late
    ones flagged), problems, and what the reader may change."""
    require(actor, "accountability.view", None)
    p = get_or_404(session, Project, project_id, N_("Key project"))
    require(actor, "accountability.view", {"area_code": p.area_code})
    names = department_names(session)
    area = session.get(Area, p.area_code)
    row = project_row(p, names)
    this_year = sum(i.completed_wan for i in p.investments if i.period.startswith(f"{today.year}-"))
    row.update({
        "area": bilingual(area.name_zh, area.name_en) if area else p.area_code,
        "completed_wan": p.completed_wan, "this_year_yi": yi(this_year),
        "completed_share_pct": round(100 * p.completed_wan / p.total_wan, 1)
        if p.total_wan else None,
        "investments": [{"period": i.period, "planned_wan": i.planned_wan,
                         "completed_wan": i.completed_wan}
                        for i in sorted(p.investments, key=lambda i: i.period, reverse=True)],
        "milestones": [{"id": m.id, "title": bilingual(m.title_zh, m.title_en),
                        "due_date": m.due_date.isoformat(),
                        "original_due_date": m.original_due_date.isoformat()
                        if m.original_due_date else None, "note": m.note,
                        "done_on": m.done_on.isoformat() if m.done_on else None,
                        "late": m.done_on is None and m.due_date < today}
                       for m in p.milestones],
        "problems": [{"id": x.id, "description": x.description,
                      "owner_department_code": x.owner_department_code,
                      "owner_department": names.get(x.owner_department_code,
                                                    x.owner_department_code),
                      "deadline": x.deadline.isoformat(), "status": x.status,
                      "status_name": label(PROBLEM_STATUS_NAMES, x.status),
                      "overdue": x.status == "open" and x.deadline < today,
                      "raised_by": x.raised_by, "resolution": x.resolution,
                      "can_resolve": x.status == "open" and can_resolve(actor, p, x)}
                     for x in p.problems],
        "can_edit": can(actor, "project.report", p),
        "can_raise": can(actor, "project.blocker", p),
    })
    return row
