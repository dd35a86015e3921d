"""Excel import: bad rows rejected precisely (file, row, column, reason), nothing written."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citygrowth.accountability import excel, tables
from citygrowth.accountability.models import Project, Target
from citygrowth.auth.actor import system_actor
from citygrowth.errors import ValidationFailed
from citygrowth.i18n import locale_context
from citygrowth.web.render import columns, xlsx_bytes
from tests.accountability.conftest import school_target, setup_district

HEADER = ["code", "name_zh", "name_en", "department", "co_owners", "area_code", "unit_zh",
          "baseline", "target_value", "start_date", "deadline"]
GOOD = ["T-PARK", "新增停车泊位4000个", "4,000 parking spaces", "urban", "housing", "370203",
        "个", 0, 4000, dt.date(2026, 1, 1), dt.date(2026, 12, 31)]


def workbook(*rows: list[Any], header: list[str] = HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_good_rows_import_and_update_by_code(session: Session) -> None:
    setup_district(session)
    data = workbook(GOOD, ["T-ROAD", "整修道路29条", "", "urban", "", 370203, "条", 0, 29,
                           "2026-01-01", "2026-12-31"])
    assert excel.import_targets(session, system_actor(), data, "t.xlsx").as_dict() == \
        {"created": 2, "updated": 0}
    again = workbook([*GOOD[:8], 4500, *GOOD[9:]])
    assert excel.import_targets(session, system_actor(), again, "t.xlsx").as_dict() == \
        {"created": 0, "updated": 1}
    t = session.scalar(select(Target).where(Target.code == "T-PARK"))
    assert t is not None and (t.target_value, t.co_owner_codes) == (4500, ["housing"])


def test_bad_rows_are_named_precisely_and_nothing_is_written(session: Session) -> None:
    setup_district(session)
    data = workbook(
        GOOD,                                                               # row 2: fine
        ["T-BAD", "坏", "", "nosuch", "", "370203", "", 0, "many", "2026-01-01", "2026-12-31"],
        ["T-LATE", "晚", "", "urban", "", "370203", "", 0, 10, "2026-06-01", "2026-01-01"],
        [],                                                                 # row 5: empty
        ["T-PARK", "重复", "", "urban", "", "370203", "", 0, 1, "2026-01-01", "not a date"],
    )
    with pytest.raises(ValidationFailed) as exc:
        excel.import_targets(session, system_actor(), data, "targets.xlsx")
    got = [(p.file, p.row, p.field, p.message) for p in exc.value.problems]
    assert got == [
        ("targets.xlsx", 3, "target_value", "Not a number."),
        ("targets.xlsx", 4, "deadline", "The deadline must come after the start date."),
        ("targets.xlsx", 6, "deadline", "Not a date (use YYYY-MM-DD)."),
        ("targets.xlsx", 6, "code", "Code {code} appears again (first in row {first})."),
    ]
    assert count(session, Target) == 0
    with locale_context("zh_CN"):
        rendered = exc.value.to_dict()
    assert rendered["error"] == "targets.xlsx 中有 4 处问题，未导入任何内容。"
    assert rendered["errors"][3]["message"] == "编号 T-PARK 重复出现（首次出现在第 2 行）。"


def test_unknown_department_and_missing_column(sqlite_session: Session) -> None:
    setup_district(sqlite_session)
    data = workbook(["T-X", "x", "", "nosuch", "", "370203", "", 0, 5, "2026-01-01",
                     "2026-12-31"])
    with pytest.raises(ValidationFailed) as exc:
        excel.import_targets(sqlite_session, system_actor(), data, "t.xlsx")
    assert [(p.row, p.field, p.value) for p in exc.value.problems] == [(2, "department", "nosuch")]
    no_deadline = workbook(GOOD[:-1], header=HEADER[:-1])
    with pytest.raises(ValidationFailed) as exc:
        excel.import_targets(sqlite_session, system_actor(), no_deadline, "t.xlsx")
    assert [(p.row, p.field, p.message) for p in exc.value.problems] == \
        [(1, "deadline", "The column '{column}' is missing.")]
    with pytest.raises(ValidationFailed) as exc:
        excel.import_targets(sqlite_session, system_actor(), b"not excel", "t.xlsx")
    assert exc.value.problems[0].message == "The file is not an Excel workbook (.xlsx)."


PROJECT_HEADER = ["code", "name_zh", "industry", "stage", "department", "area_code",
                  "total_investment_yi", "start_year", "end_year"]


def test_projects_import_all_or_nothing(sqlite_session: Session) -> None:
    setup_district(sqlite_session)
    good = ["KP-1", "海洋科技创新中心", "blue_economy", "construction", "ndrc", "370203001",
            12.5, 2025, 2027]
    bad = workbook(good, ["KP-2", "数据中心", "space_mining", "construction", "ndrc",
                          "370203001", 3, 2027, 2025], header=PROJECT_HEADER)
    with pytest.raises(ValidationFailed) as exc:
        excel.import_projects(sqlite_session, system_actor(), bad, "p.xlsx")
    assert [(p.row, p.field, p.message) for p in exc.value.problems] == \
        [(3, "industry", "Not one of the allowed values.")]
    assert count(sqlite_session, Project) == 0
    ok = workbook(good, header=PROJECT_HEADER)
    assert excel.import_projects(sqlite_session, system_actor(), ok, "p.xlsx").created == 1
    assert sqlite_session.scalar(select(Project.total_wan)) == 125_000


def _export(session: Session) -> bytes:
    """The targets workbook as ``/api/accountability/export/targets.xlsx`` gives it."""
    cols, rows = tables.table(session, system_actor(), "targets", dt.date(2026, 6, 1),
                              "Asia/Shanghai")
    return xlsx_bytes(columns(*cols), rows, "targets")


def test_export_round_trips_through_import(sqlite_session: Session) -> None:
    setup_district(sqlite_session)
    excel.import_targets(sqlite_session, system_actor(), workbook(GOOD), "t.xlsx")
    body = _export(sqlite_session)
    ws = load_workbook(io.BytesIO(body)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("代码", "中文名称", "英文名称") and rows[1][0] == "T-PARK"
    assert excel.import_targets(sqlite_session, system_actor(), body, "t.xlsx").updated == 1


def test_reimport_keeps_milestones_the_sheet_does_not_carry(sqlite_session: Session) -> None:
    setup_district(sqlite_session)
    t = school_target(sqlite_session)
    body = _export(sqlite_session)
    excel.import_targets(sqlite_session, system_actor(), body, "t.xlsx")
    sqlite_session.refresh(t)
    assert [m.title_zh for m in t.milestones] == ["年度节点"] and t.co_owner_codes == ["housing"]
