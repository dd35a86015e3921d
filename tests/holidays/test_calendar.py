"""A holiday calendar that does not run out: notices loaded from a file, the CLI and the admin
page come before chinese_calendar; a deadline or approval time reaching a year nobody knows is
flagged where it is shown, and data health says so.

The 2027 notice used here is CONSTRUCTED (tests/data/holidays-2027-constructed.yaml): the State
Council's 2027 notice could not be found published when the test was written. Lunar New Year
2027 is Saturday 6 February; the file's Spring Festival break is 5–12 February."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from citygrowth.accountability.approvals import record_approval
from citygrowth.accountability.schemas import ApprovalIn
from citygrowth.auth.actor import system_actor
from citygrowth.cli import main
from citygrowth.errors import Conflict, ValidationFailed
from citygrowth.governance.intake import ReportInput, submit_report
from citygrowth.governance.lifecycle import transition
from citygrowth.governance.models import Case, CaseCategory
from citygrowth.holidays.notice import parse_csv, parse_file, parse_form, to_yaml
from citygrowth.holidays.service import load_notice, remove_notice
from citygrowth.holidays.store import CHECK_SECONDS, HolidayCalendars, read_calendar
from citygrowth.runtime import Runtime, build_runtime
from citygrowth.settings import Settings
from citygrowth.workdays import STATUTORY
from tests.conftest import DATA
from tests.factories import DISTRICT
from tests.governance.conftest import seed_store

NOTICE = DATA / "holidays-2027-constructed.yaml"
BJ = ZoneInfo("Asia/Shanghai")


def bj(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BJ).astimezone(dt.UTC)


# --- reading notices -------------------------------------------------------------------------

def test_the_constructed_notice_reads_and_writes_back() -> None:
    n = parse_file(NOTICE.read_bytes(), NOTICE.name)
    assert n.year == 2027 and len(n.holidays) == 1 + 8 + 3 + 5 + 1 + 1 + 7
    assert n.holidays[dt.date(2027, 2, 6)] == "春节" and n.workdays[dt.date(2027, 1, 31)] == "春节"
    again = parse_file(to_yaml(n).encode(), "again.yaml")
    assert (again.holidays, again.workdays, again.title) == (n.holidays, n.workdays, n.title)


def test_csv_and_form_give_the_same_notice() -> None:
    csv_text = ("date,kind,name,to\n2027-01-01,holiday,元旦,\n2027-02-05,放假,春节,2027-02-12\n"
                "2027-01-31,上班,春节,\n2027-02-20,workday,春节,\n")
    a = parse_csv(csv_text, "2027.csv")
    b = parse_form("2027", "", "", "2027-01-01 元旦\n2027-02-05 至 2027-02-12 春节\n",
                   "2027-01-31 春节\n\n2027-02-20 春节")
    assert a.holidays == b.holidays and a.workdays == b.workdays and a.year == b.year == 2027
    assert a.title == "国务院办公厅关于2027年部分节假日安排的通知"


@pytest.mark.parametrize(("text", "where"), [
    ("date,kind,name\n2027-02-05,holiday,春节\n2027-02-05,holiday,春节\n", (3, "date")),
    ("date,kind,name\n2027-02-05,holiday,春节\n2027-02-03,workday,春节\n", (3, "workdays")),
    ("date,kind,name\n2027-02-05,holiday,春节\n2027-02-31,holiday,春节\n", (3, "date")),
    ("date,kind,name\n2027-02-05,holiday,春节\n2026-12-31,holiday,元旦\n", (3, "holidays")),
    ("date,kind,name\n2027-02-05,rest,春节\n", (2, "kind")),
    ("date,kind,name\n2027-02-06,holiday,春节\n2027-02-06,workday,春节\n", (3, "workdays")),
])
def test_mistakes_are_named_by_row_and_field(text: str, where: tuple[int | None, str]) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_csv(text, "2027.csv")
    found = [(p.row, p.field) for p in info.value.problems]
    assert where in found, found
    assert all(p.file == "2027.csv" for p in info.value.problems)


def test_form_mistakes_in_chinese() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_form("2027", "", "", "2027-02-05..2027-02-12 春节\nFeb 5 春节", "")
    rendered = info.value.to_dict("zh_CN")
    assert rendered["error"] == "节假日通知有错误，未载入任何内容。"
    assert rendered["errors"][0]["row"] == 2 and "第 2 行" in rendered["errors"][0]["message"]


# --- the calendar of a store -----------------------------------------------------------------

def _load(runtime: Runtime, replace: bool = False) -> Any:
    with runtime.session() as s:
        return load_notice(s, system_actor("test"), parse_file(NOTICE.read_bytes(), NOTICE.name),
                           runtime=runtime, replace=replace)


def test_notices_come_first_and_other_stores_do_not_see_them(
        runtime: Runtime, tmp_path: Path, sqlite_template: Path) -> None:
    assert not runtime.calendar.days.knows(2027)
    assert runtime.calendar.days.is_workday(dt.date(2027, 2, 8))  # a Monday, unknown year
    _load(runtime)
    cal = runtime.calendar.days  # the runtime that loaded it reads it again at once
    assert cal.source(2027) == "notice" and cal.source(2026) == "package"
    assert not cal.is_workday(dt.date(2027, 2, 8)) and cal.is_workday(dt.date(2027, 1, 31))
    assert cal.day_name(dt.date(2027, 2, 8)) == "春节"
    assert runtime.calendar.days is cal  # read once per version of the notices
    # another store (another app) knows nothing of it; the statutory default neither
    shutil.copy(sqlite_template, tmp_path / "other.db")
    other = build_runtime(Settings(data_dir=tmp_path / "other", env="test",
                                   database_url=f"sqlite:///{tmp_path / 'other.db'}"))
    assert not other.calendar.days.knows(2027)
    other.dispose()
    assert not STATUTORY.knows(2027)
    with pytest.raises(Conflict):
        _load(runtime)
    assert _load(runtime, replace=True).replaced


def test_a_notice_loaded_elsewhere_is_in_force_within_seconds(db_url: str,
                                                              tmp_path: Path) -> None:
    """Another worker's runtime (its own engine) reads the notices' version again every few
    seconds: the new notice is in force there without a restart — on SQLite and
    PostgreSQL."""
    settings = Settings(data_dir=tmp_path / "var", env="test", database_url=db_url)
    here, there = build_runtime(settings), build_runtime(settings)
    now = [0.0]
    there.__dict__["holidays"] = HolidayCalendars(lambda: there.engine, clock=lambda: now[0])
    try:
        assert not there.calendar.days.knows(2027)
        _load(here)
        assert not there.calendar.days.knows(2027)  # checked a moment ago
        now[0] += CHECK_SECONDS + 0.1
        assert there.calendar.days.knows(2027)
        with here.session() as s:
            remove_notice(s, system_actor("test"), 2027, runtime=here)
        now[0] += CHECK_SECONDS + 0.1
        assert not there.calendar.days.knows(2027)
    finally:
        here.dispose()
        there.dispose()


# --- the deadline across Spring Festival 2027 -------------------------------------------------

@pytest.fixture
def factory(runtime: Runtime) -> sessionmaker[Session]:
    return runtime.sessionmaker


@pytest.fixture
def clock(runtime: Runtime) -> list[float]:
    """The app's reading of the notices on a clock the test moves (no sleeping)."""
    now = [0.0]
    runtime.__dict__["holidays"] = HolidayCalendars(lambda: runtime.engine, clock=lambda: now[0])
    return now


def _dispatch_before_spring_festival(runtime: Runtime) -> int:
    """A case dispatched on Wednesday 3 February 2027, 09:00, with 30 working hours (four
    working days of 7.5 hours)."""
    with runtime.session() as s:
        cat = s.get(CaseCategory, "E0101")
        assert cat is not None
        cat.time_limit_hours = 30
        system = system_actor("test")
        case = submit_report(s, system, ReportInput(category_code="E0101", lon=120.305,
                                                    lat=36.055, description="垃圾"),
                             runtime=runtime).case
        transition(s, system, case, "register", runtime=runtime, at=bj(2027, 2, 3, 8, 50))
        transition(s, system, case, "dispatch", runtime=runtime, department_code="urban",
                   at=bj(2027, 2, 3, 9, 0))
        return int(case.id)


def _due(factory: sessionmaker[Session], case_id: int) -> dt.datetime | None:
    with factory() as s:
        case = s.get(Case, case_id)
        assert case is not None
        due: dt.datetime | None = case.due_at
        return due


def test_deadline_across_spring_festival_2027(settings: Settings, runtime: Runtime,
                                              clock: list[float], client: TestClient,
                                              factory: sessionmaker[Session],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    keys = seed_store(factory)
    admin = {"X-API-Key": keys["admin"]}
    case_id = _dispatch_before_spring_festival(runtime)

    # before the notice: Monday–Friday counted (Feb 3, 4, 5, 8, then half an hour on the 9th)
    # — wrong, and flagged on the case page, in the list, in JSON and in data health
    assert _due(factory, case_id) == bj(2027, 2, 9, 9, 0)
    page = client.get(f"/command/cases/{case_id}", headers=admin)
    assert page.status_code == 200 and 'data-testid="calendar-gap"' in page.text
    assert "2027 年节假日未载入" in page.text
    case_json = client.get(f"/api/cases/{case_id}", headers=admin).json()["case"]
    assert case_json["calendar_gaps"] == [2027]
    assert 'data-testid="calendar-gap"' in client.get("/command", headers=admin).text
    with factory() as s:
        token = s.get(Case, case_id).token  # type: ignore[union-attr]
    assert 'data-testid="calendar-gap"' in client.get(f"/track/{token}").text  # the resident's
    health = client.get("/api/data/health", headers=admin).json()["calendar"]
    assert health["deadlines_reach"] == [2027] and not health["ok"]

    # the administrator loads the 2027 notice with the CLI
    monkeypatch.setenv("CITYGROWTH_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CITYGROWTH_DATA_DIR", str(settings.data_dir))
    r = CliRunner().invoke(main, ["--lang", "en", "calendar", "load", str(NOTICE)])
    assert r.exit_code == 0, r.output
    assert "Recomputed the deadlines of 1 open cases." in r.output
    clock[0] += CHECK_SECONDS  # the web app reads the notices again within seconds

    # after: Feb 3 and 4, the break (5–12) and the weekend, Feb 15 and 16, half an hour on 17
    assert _due(factory, case_id) == bj(2027, 2, 17, 9, 0)
    page = client.get(f"/command/cases/{case_id}", headers=admin)
    assert 'data-testid="calendar-gap"' not in page.text
    assert 'data-testid="calendar-gap"' not in client.get(f"/track/{token}").text
    case_json = client.get(f"/api/cases/{case_id}", headers=admin).json()["case"]
    assert case_json["calendar_gaps"] == []
    assert client.get("/api/data/health", headers=admin).json()["calendar"]["ok"]
    r = CliRunner().invoke(main, ["calendar", "show", "2027"])
    assert r.exit_code == 0 and "春节" in r.output and "2027-02-05 – 2027-02-12" in r.output


def test_approval_times_across_spring_festival_2027(runtime: Runtime, client: TestClient,
                                                    factory: sessionmaker[Session]) -> None:
    keys = seed_store(factory)
    admin = {"X-API-Key": keys["admin"]}
    with factory() as s:
        record_approval(s, system_actor("test"), ApprovalIn(
            code="A-2027-1", name_zh="核准", kind="approval", department_code="urban",
            area_code=DISTRICT, submitted_at=bj(2027, 2, 3, 10, 0),
            approved_at=bj(2027, 2, 16, 15, 0), limit_days=20))
        s.commit()
    stats = client.get("/api/accountability/approvals/stats", headers=admin).json()
    assert stats["calendar_gaps"] == [2027]
    assert stats["by_year"][-1]["median_days"] == 9  # Feb 4 … 16 on Monday–Friday
    assert 'data-testid="calendar-gap-banner"' in client.get("/approvals", headers=admin).text
    _load(runtime)
    stats = client.get("/api/accountability/approvals/stats", headers=admin).json()
    assert stats["calendar_gaps"] == []
    assert stats["by_year"][-1]["median_days"] == 3  # Feb 4, 15, 16
    assert 'calendar-gap-banner' not in client.get("/approvals", headers=admin).text


# --- the admin page --------------------------------------------------------------------------

def test_admin_page_loads_a_notice_from_the_form_and_from_a_file(
        client: TestClient, factory: sessionmaker[Session]) -> None:
    keys = seed_store(factory)
    admin = {"X-API-Key": keys["admin"]}
    page = client.get("/admin/calendar", headers=admin)
    assert page.status_code == 200 and "2027" in page.text
    # a mistake: shown on the page with its line, nothing loaded
    r = client.post("/admin/calendar", headers=admin, data={
        "year": "2027", "holidays": "2027-02-05..2027-02-12 春节\n2027-02-30 春节",
        "workdays": ""}, follow_redirects=False)
    assert r.status_code == 422 and 'data-testid="errors"' in r.text
    with factory() as s:
        assert not read_calendar(s).knows(2027)
    r = client.post("/admin/calendar", headers=admin, data={
        "year": "2027", "title": "", "document": "",
        "holidays": "2027-01-01 元旦\n2027-02-05..2027-02-12 春节",
        "workdays": "2027-01-31 春节\n2027-02-20 春节"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/calendar?year=2027&done=loaded"
    with factory() as s:
        assert not read_calendar(s).is_workday(dt.date(2027, 2, 8))
    # the same year again without "replace": refused with a message; with it, replaced
    files = {"file": ("2027.yaml", NOTICE.read_bytes(), "application/yaml")}
    r = client.post("/admin/calendar", headers=admin, files=files, data={"year": ""})
    assert r.status_code == 409 and "2027" in r.text
    r = client.post("/admin/calendar", headers=admin, files=files, data={"replace": "1"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/calendar/2027", headers=admin).json()["title"].startswith("测试用")
    # other roles: no page, no loading
    assert client.get("/admin/calendar", headers={"X-API-Key": keys["cmd_a"]}).status_code == 403
    r = client.delete("/api/calendar/2027", headers={"X-API-Key": keys["analyst"]})
    assert r.status_code == 403
    assert client.delete("/api/calendar/2027", headers=admin).json()["ok"]
