"""Excel import of key-project updates: monthly investment, milestones, stage, problems.

The template (:func:`template`) has one sheet per kind of update, prefilled with the projects
(and open milestones) the reader may update; an instructions sheet explains every column in the
reader's language. :func:`import_updates` runs every filled row through the same service as
the project page's forms (they check a row completely before writing it); a row a service
refuses becomes a problem naming the sheet, the Excel row and the column. If any row has a
problem the import raises, so the caller's transaction keeps nothing (all or nothing), and
every problem is listed.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability import projects
from citygrowth.accountability.common import problems_from
from citygrowth.accountability.excel import _text, open_workbook, sheet_rows
from citygrowth.accountability.models import Project
from citygrowth.accountability.schemas import (
    InvestmentIn,
    MilestoneDoneIn,
    MilestoneMoveIn,
    ProblemIn,
    ProjectMilestoneIn,
    ProjectStageIn,
)
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import can, require
from citygrowth.errors import CityGrowthError, Problem, ValidationFailed
from citygrowth.i18n import N_, _, bilingual
from citygrowth.web.render import append_safe


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[str, ...]  # the import reads these; the others are for people
    required: tuple[str, ...]
    fill: str  # a row with this column empty is skipped (prefilled rows left blank)
    help: tuple[tuple[str, str], ...]  # (column, msgid)


SHEETS = (
    Sheet("investment", ("project_code", "period", "completed_wan", "planned_wan"),
          ("project_code", "period", "completed_wan"), "completed_wan", (
              ("project_code", N_("Project code (KP-001 …); the project name beside it is "
                                  "only a reminder.")),
              ("period", N_("Month, YYYY-MM; not after the current month.")),
              ("completed_wan", N_("Investment completed in the month, whole 10,000 yuan. "
                                   "Leave empty to skip the row.")),
              ("planned_wan", N_("Investment planned for the month, whole 10,000 yuan.")))),
    Sheet("milestones", ("project_code", "milestone", "action", "date", "reason"),
          ("project_code", "milestone", "action", "date"), "action", (
              ("milestone", N_("The milestone's name exactly as on the project page (for "
                               "'add': the new milestone's name).")),
              ("action", N_("done, move or add. Leave empty to skip the row.")),
              ("date", N_("done: the day it was done; move: the new due date; add: the due "
                          "date. YYYY-MM-DD.")),
              ("reason", N_("Why the milestone moves (needed for move).")))),
    Sheet("stage", ("project_code", "stage", "note"), ("project_code", "stage"), "stage", (
        ("stage", N_("planning, preparing, construction or completed.")),
        ("note", N_("Needed when the project goes back a stage.")))),
    Sheet("problems", ("project_code", "description", "department", "deadline"),
          ("project_code", "description", "department", "deadline"), "description", (
              ("description", N_("The problem that needs coordination.")),
              ("department", N_("Code of the department that must solve it (urban, housing "
                                "…).")),
              ("deadline", N_("Solve by, YYYY-MM-DD.")))),
)
# service field → sheet column, per sheet
COLUMNS = {
    "investment": {},
    "milestones": {"done_on": "date", "due_date": "date", "milestone_id": "milestone",
                   "title_zh": "milestone"},
    "stage": {},
    "problems": {"owner_department_code": "department"},
}


@dataclass(frozen=True)
class UpdateResult:
    applied: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"applied": self.applied, "total": sum(self.applied.values())}


def editable_projects(session: Session, actor: Actor) -> list[Project]:
    return [p for p in projects.visible_projects(session, actor)
            if can(actor, "project.report", p)]


def template(session: Session, actor: Actor, today: dt.date) -> bytes:
    """The update workbook, prefilled with the reader's projects and their open milestones."""
    require(actor, "accountability.view", None)
    mine = editable_projects(session, actor)
    wb = Workbook()
    info = wb.active
    assert info is not None
    info.title = "instructions"
    info.append([_("Key project updates: fill the sheets, then import the file on the "
                   "project updates page. Every row is checked; if one has a problem nothing "
                   "is imported.")])
    info.append([])
    info.append([_("Sheet"), _("Column"), _("Meaning")])
    for sheet in SHEETS:
        for column, text in sheet.help:
            info.append([sheet.name, column, _(text)])
    month = f"{today.year:04d}-{today.month:02d}"
    ws = wb.create_sheet("investment")
    ws.append([*SHEETS[0].columns, "project_name"])
    for p in mine:
        append_safe(ws, [p.code, month, None, None, bilingual(p.name_zh, p.name_en)])
    ws = wb.create_sheet("milestones")
    ws.append([*SHEETS[1].columns, "project_name", "current_due_date"])
    for p in mine:
        for m in p.milestones:
            if m.done_on is None:
                append_safe(ws, [p.code, m.title_zh, None, None, None,
                                 bilingual(p.name_zh, p.name_en), m.due_date.isoformat()])
    for sheet in SHEETS[2:]:
        wb.create_sheet(sheet.name).append(list(sheet.columns))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def import_updates(session: Session, actor: Actor, data: bytes, filename: str,
                   today: dt.date) -> UpdateResult:
    """Apply every filled row of every sheet, all or nothing (see the module's text)."""
    require(actor, "accountability.view", None)
    wb = open_workbook(data, filename)
    try:
        sheets = {s.name: sheet_rows(wb[s.name], f"{filename} › {s.name}", s.columns,
                                     s.required) for s in SHEETS if s.name in wb.sheetnames}
    finally:
        wb.close()
    if not any(sheets.values()):
        raise ValidationFailed(problems=[Problem(
            N_("No filled rows: the sheets investment, milestones, stage and problems are "
               "empty."), file=filename)])
    problems: list[Problem] = []
    applied: dict[str, int] = {}
    by_code = {p.code: p for p in session.scalars(select(Project))}
    for sheet in SHEETS:
        where = f"{filename} › {sheet.name}"
        seen: dict[tuple[Any, ...], int] = {}
        for number, cells in sheets.get(sheet.name, []):
            if cells.get(sheet.fill) is None:
                continue
            found = _duplicate(sheet.name, cells, seen, number, where)
            if not found:
                found = _apply_row(session, actor, sheet.name, cells, by_code, today, where,
                                   number)
            problems += found
            applied[sheet.name] = applied.get(sheet.name, 0) + (0 if found else 1)
    if problems:
        raise ValidationFailed("{count} problem(s) in {file}; nothing was imported.",
                               problems=problems, count=len(problems), file=filename)
    record(session, actor, "project.import_updates", filename, applied)
    return UpdateResult(applied)


def _duplicate(sheet: str, cells: dict[str, Any], seen: dict[tuple[Any, ...], int],
               number: int, where: str) -> list[Problem]:
    key: tuple[Any, ...] = (_text(cells.get("project_code")),)
    if sheet == "investment":
        key += (str(cells.get("period")),)
    elif sheet == "milestones":
        key += (cells.get("milestone"),)
    elif sheet == "problems":
        return []
    if key in seen:
        return [Problem(N_("This project appears again in the sheet (first in row {first})."),
                        {"first": seen[key]}, file=where, row=number, field="project_code",
                        value=key[0])]
    seen[key] = number
    return []


def _apply_row(session: Session, actor: Actor, sheet: str, cells: dict[str, Any],
               by_code: dict[str, Project], today: dt.date, where: str,
               number: int) -> list[Problem]:
    code = _text(cells.get("project_code"))
    project = by_code.get(str(code)) if code is not None else None
    if project is None:
        return [Problem(N_("Unknown key project '{code}'."), {"code": code}, file=where,
                        row=number, field="project_code", value=code)]
    try:
        action = _action(sheet, project, cells, today)
    except ValidationError as exc:
        return problems_from(exc, where, number, cells, COLUMNS[sheet])
    except ValidationFailed as err:
        return _located(err, where, number, cells, sheet)
    try:
        action(session, actor)  # the services check everything before they write
    except CityGrowthError as err:
        return _located(err, where, number, cells, sheet)
    return []


def _located(err: CityGrowthError, where: str, number: int, cells: dict[str, Any],
             sheet: str) -> list[Problem]:
    if not err.problems:
        return [Problem("{detail}", {"detail": err.render_message()}, file=where, row=number,
                        field="project_code", value=cells.get("project_code"))]
    out = []
    for p in err.problems:
        column = COLUMNS[sheet].get(p.field or "", p.field or "")
        column = column if column in cells or column in _columns(sheet) else "project_code"
        out.append(Problem(p.message, p.params, file=where, row=number, field=column,
                           value=cells.get(column)))
    return out


def _columns(sheet: str) -> tuple[str, ...]:
    return next(s.columns for s in SHEETS if s.name == sheet)


Action = Callable[[Session, Actor], object]


def _model(model: type[BaseModel], data: dict[str, Any]) -> Any:
    return model.model_validate({k: v for k, v in data.items() if v is not None})


def _action(sheet: str, project: Project, c: dict[str, Any], today: dt.date) -> Action:
    """The service call of one row (its input parsed; the service checks the rest)."""
    pid = project.id
    if sheet == "investment":
        inv = _model(InvestmentIn, {"period": _month(c.get("period")),
                                    "completed_wan": c.get("completed_wan"),
                                    "planned_wan": c.get("planned_wan")})
        return lambda s, a: projects.record_investment(s, a, pid, inv, today)
    if sheet == "stage":
        st = _model(ProjectStageIn, {"stage": c.get("stage"), "note": c.get("note")})
        return lambda s, a: projects.change_stage(s, a, pid, st)
    if sheet == "problems":
        pr = _model(ProblemIn, {"description": c.get("description"),
                                "owner_department_code": c.get("department"),
                                "deadline": c.get("deadline")})
        return lambda s, a: projects.raise_problem(s, a, pid, pr)
    return _milestone_action(project, c, today)


def _milestone_action(project: Project, c: dict[str, Any], today: dt.date) -> Action:
    pid, action, title = project.id, str(c.get("action") or "").strip().lower(), c.get("milestone")
    if action == "add":
        new = _model(ProjectMilestoneIn, {"title_zh": title, "due_date": c.get("date")})
        return lambda s, a: projects.add_milestone(s, a, pid, new)
    if action not in ("done", "move"):
        raise ValidationFailed(problems=[Problem(N_("Not one of the allowed values."),
                                                 field="action", value=action)])
    match = [m for m in project.milestones if title is not None
             and str(title).strip() in (m.title_zh, m.title_en)]
    if not match:
        raise ValidationFailed(problems=[Problem(
            N_("The project has no milestone named '{name}'."), {"name": title},
            field="milestone", value=title)])
    mid = match[0].id
    if action == "done":
        done = _model(MilestoneDoneIn, {"milestone_id": mid, "done_on": c.get("date")})
        return lambda s, a: projects.complete_milestone(s, a, pid, done, today)
    move = _model(MilestoneMoveIn, {"milestone_id": mid, "due_date": c.get("date"),
                                    "reason": c.get("reason")})
    return lambda s, a: projects.move_milestone(s, a, pid, move)


def _month(value: Any) -> Any:
    """A month typed as a date or a datetime in Excel becomes YYYY-MM."""
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    return None if value is None else str(value).strip()
