"""Key projects: portfolio, investment completed, milestones and problems for coordination."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.common import (
    INDUSTRY_NAMES,
    PROJECT_STAGE_NAMES,
    check_refs,
    get_or_404,
    label,
    raise_if,
    yi,
)
from citygrowth.accountability.models import (
    Project,
    ProjectInvestment,
    ProjectProblem,
)
from citygrowth.accountability.schemas import InvestmentIn, ProblemIn, ProjectIn, ResolveIn
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import require, scope_prefixes
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


def record_investment(session: Session, actor: Actor, project_id: int,
                      data: InvestmentIn) -> ProjectInvestment:
    """Set the investment planned and completed in one month (replaces that month's figure)."""
    project = get_or_404(session, Project, project_id, N_("Key project"))
    require(actor, "project.report", project)
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
    return row


def raise_problem(session: Session, actor: Actor, project_id: int,
                  data: ProblemIn) -> ProjectProblem:
    """Escalate a problem for coordination, naming the department that must solve it."""
    project = get_or_404(session, Project, project_id, N_("Key project"))
    require(actor, "project.report", project)
    raise_if(check_refs(session, [data.owner_department_code], []))
    problem = ProjectProblem(project_id=project.id, description=data.description,
                             owner_department_code=data.owner_department_code,
                             deadline=data.deadline, raised_by=actor.username)
    project.problems.append(problem)
    session.flush()
    record(session, actor, "project.problem", f"project:{project.code}",
           {"problem": problem.id, "owner": data.owner_department_code})
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
    return problem


def visible_projects(session: Session, actor: Actor) -> list[Project]:
    require(actor, "accountability.view", None)
    projects = list(session.scalars(select(Project).order_by(Project.code)))
    prefixes = scope_prefixes(actor, "accountability.view")
    if prefixes is not None:
        projects = [p for p in projects if any(p.area_code.startswith(x) for x in prefixes)]
    return projects


def project_row(p: Project) -> dict[str, Any]:
    return {
        "id": p.id, "code": p.code, "name": bilingual(p.name_zh, p.name_en),
        "name_zh": p.name_zh, "name_en": p.name_en, "industry": p.industry,
        "industry_name": label(INDUSTRY_NAMES, p.industry), "stage": p.stage,
        "stage_name": label(PROJECT_STAGE_NAMES, p.stage),
        "department_code": p.department_code, "area_code": p.area_code,
        "total_yi": yi(p.total_wan), "total_wan": p.total_wan,
        "completed_yi": yi(p.completed_wan), "start_year": p.start_year,
        "end_year": p.end_year, "lon": p.lon, "lat": p.lat,
        "open_problems": sum(1 for x in p.problems if x.status == "open"),
        "illustrative": p.illustrative,
    }


def list_projects(session: Session, actor: Actor, industry: str | None = None,
                  stage: str | None = None) -> list[dict[str, Any]]:
    rows = [project_row(p) for p in visible_projects(session, actor)]
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
    out = []
    for p in visible_projects(session, actor):
        for x in p.problems:
            if x.status == "open":
                out.append({"id": x.id, "project_id": p.id, "project": bilingual(p.name_zh,
                                                                                 p.name_en),
                            "description": x.description,
                            "owner_department_code": x.owner_department_code,
                            "deadline": x.deadline.isoformat()})
    return sorted(out, key=lambda r: r["deadline"])
