"""Excel import of targets and key projects (all or nothing), and ``.xlsx`` exports.

An import reads the first sheet: row 1 holds the column names (see ``TARGET_COLUMNS`` and
``PROJECT_COLUMNS``), every later non-empty row is one record. Each row is checked completely;
when any row has a problem, nothing is written and the error lists every problem with the
file, the row number as Excel shows it, the column and the reason. Rows whose ``code`` exists
already update that record; others create one.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from openpyxl import load_workbook
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.common import problems_from
from citygrowth.accountability.models import Project, Target
from citygrowth.accountability.projects import apply_project, validate_project
from citygrowth.accountability.schemas import ProjectIn, TargetIn
from citygrowth.accountability.targets import apply_target, validate_target
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import can, require
from citygrowth.errors import Problem, ValidationFailed
from citygrowth.i18n import N_
from citygrowth.web.render import column_keys

TARGET_COLUMNS = ("code", "name_zh", "name_en", "department", "co_owners", "area_code",
                  "unit_zh", "unit_en", "baseline", "target_value", "start_date", "deadline",
                  "plan", "indicator_code", "description", "kind")
TARGET_REQUIRED = ("code", "name_zh", "department", "area_code", "target_value", "start_date",
                   "deadline")
PROJECT_COLUMNS = ("code", "name_zh", "name_en", "industry", "stage", "department", "area_code",
                   "total_investment_yi", "start_year", "end_year", "lon", "lat")
PROJECT_REQUIRED = ("code", "name_zh", "industry", "stage", "department", "area_code",
                    "total_investment_yi", "start_year", "end_year")

FIELD_TO_COLUMN = {"department_code": "department", "co_owners": "co_owners",
                   "total_wan": "total_investment_yi"}


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated}


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def open_workbook(data: bytes, filename: str) -> Any:
    """The workbook (read-only), or a problem naming the file when it is none."""
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a file that is no workbook
        raise ValidationFailed(problems=[Problem(
            N_("The file is not an Excel workbook (.xlsx)."), file=filename)]) from None


def sheet_rows(ws: Any, filename: str, columns: tuple[str, ...],
               required: tuple[str, ...]) -> list[tuple[int, dict[str, Any]]]:
    """(Excel row number, {column: value}) for every non-empty row of a sheet; checks the
    header (row 1)."""
    rows = ws.iter_rows(values_only=True)
    header = column_keys(next(rows, ()), columns)  # keys, or their names in an export
    missing = [c for c in required if c not in header]
    if missing:
        raise ValidationFailed(problems=[Problem(N_("The column '{column}' is missing."),
                                                 {"column": c}, file=filename, row=1, field=c)
                                         for c in missing])
    out = []
    for number, values in enumerate(rows, start=2):
        cells = {h: _cell(v) for h, v in zip(header, values, strict=False) if h in columns}
        if any(v is not None for v in cells.values()):
            out.append((number, cells))
    return out


def read_sheet(data: bytes, filename: str, columns: tuple[str, ...],
               required: tuple[str, ...]) -> list[tuple[int, dict[str, Any]]]:
    """The first sheet's rows (see :func:`sheet_rows`)."""
    wb = open_workbook(data, filename)
    try:
        return sheet_rows(wb.worksheets[0], filename, columns, required)
    finally:
        wb.close()


def _parse(model: type[BaseModel], fields: dict[str, Any], file: str, row: int,
           cells: dict[str, Any]) -> tuple[Any, list[Problem]]:
    try:
        return model.model_validate({k: v for k, v in fields.items() if v is not None}), []
    except ValidationError as exc:
        return None, problems_from(exc, file, row, cells, FIELD_TO_COLUMN)


def _target_fields(c: dict[str, Any]) -> dict[str, Any]:
    co = c.get("co_owners")
    return {
        "code": _text(c.get("code")), "name_zh": c.get("name_zh"), "name_en": c.get("name_en"),
        "department_code": c.get("department"),
        "co_owners": [x.strip() for x in str(co).replace("，", ",").split(",") if x.strip()]
        if co else [],
        "area_code": _text(c.get("area_code")), "unit_zh": c.get("unit_zh"),
        "unit_en": c.get("unit_en"), "baseline": c.get("baseline"),
        "target_value": c.get("target_value"), "start_date": c.get("start_date"),
        "deadline": c.get("deadline"), "plan": c.get("plan"),
        "indicator_code": c.get("indicator_code"), "description": c.get("description"),
        "kind": c.get("kind"),
    }


def _text(value: Any) -> Any:
    """Codes typed as numbers in Excel (370203) come back as int; read them as text."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) if isinstance(value, int) else value


def _check_rows(session: Session, actor: Actor, rows: list[tuple[int, dict[str, Any]]],
                file: str, kind: str) -> tuple[list[Any], list[Problem]]:
    parsed: list[Any] = []
    problems: list[Problem] = []
    seen: dict[Any, int] = {}
    for number, cells in rows:
        if kind == "targets":
            data, found = _parse(TargetIn, _target_fields(cells), file, number, cells)
            if data is not None:
                found = validate_target(session, data, file, number)
        else:
            data, found = _parse(ProjectIn, _project_fields(cells), file, number, cells)
            if data is not None:
                found = validate_project(session, data, file, number)
        code = _text(cells.get("code"))
        if code in seen:
            found.append(Problem(N_("Code {code} appears again (first in row {first})."),
                                 {"code": code, "first": seen[code]}, file=file, row=number,
                                 field="code", value=code))
        seen.setdefault(code, number)
        perm = "target.manage" if kind == "targets" else "project.manage"
        if data is not None and not found and not can(actor, perm, {
                "area_code": data.area_code, "department_code": data.department_code}):
            found.append(Problem(N_("You may not manage records of department {code}."),
                                 {"code": data.department_code}, file=file, row=number,
                                 field="department", value=data.department_code))
        problems += found
        parsed.append(data)
    return parsed, problems


def import_targets(session: Session, actor: Actor, data: bytes,
                   filename: str) -> ImportResult:
    """Create or update targets from a workbook; nothing is written if any row is bad."""
    require(actor, "target.manage", None)
    rows = read_sheet(data, filename, TARGET_COLUMNS, TARGET_REQUIRED)
    parsed, problems = _check_rows(session, actor, rows, filename, "targets")
    if problems:
        raise ValidationFailed("{count} problem(s) in {file}; nothing was imported.",
                               problems=problems, count=len(problems), file=filename)
    created = updated = 0
    for item, (_row, cells) in zip(parsed, rows, strict=True):
        existing = session.scalar(select(Target).where(Target.code == item.code))
        apply_target(session, item, existing, keep_co_owners="co_owners" not in cells,
                     keep_milestones=True)
        created, updated = (created, updated + 1) if existing else (created + 1, updated)
    record(session, actor, "target.import", filename, {"created": created, "updated": updated})
    return ImportResult(created, updated)


def _project_fields(c: dict[str, Any]) -> dict[str, Any]:
    total = c.get("total_investment_yi")
    wan: Any = total
    if isinstance(total, (int, float)) and not isinstance(total, bool):
        wan = round(total * 10_000)
    return {
        "code": _text(c.get("code")), "name_zh": c.get("name_zh"), "name_en": c.get("name_en"),
        "industry": c.get("industry"), "stage": c.get("stage"),
        "department_code": c.get("department"), "area_code": _text(c.get("area_code")),
        "total_wan": wan, "start_year": c.get("start_year"), "end_year": c.get("end_year"),
        "lon": c.get("lon"), "lat": c.get("lat"),
    }


def import_projects(session: Session, actor: Actor, data: bytes,
                    filename: str) -> ImportResult:
    """Create or update key projects from a workbook; all or nothing."""
    require(actor, "project.manage", None)
    rows = read_sheet(data, filename, PROJECT_COLUMNS, PROJECT_REQUIRED)
    parsed, problems = _check_rows(session, actor, rows, filename, "projects")
    if problems:
        raise ValidationFailed("{count} problem(s) in {file}; nothing was imported.",
                               problems=problems, count=len(problems), file=filename)
    created = updated = 0
    for item in parsed:
        existing = session.scalar(select(Project).where(Project.code == item.code))
        apply_project(session, item, existing)
        created, updated = (created, updated + 1) if existing else (created + 1, updated)
    record(session, actor, "project.import", filename, {"created": created, "updated": updated})
    return ImportResult(created, updated)
