"""The accountability desk: project updates, approvals (受理/办结), lead hand-overs with
acceptance, service requests with deadlines — through the pages' forms, with their errors next
to the fields, permission-checked per department, audited and shown to the leader."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from citygrowth.accountability.models import ApprovalItem, Change, Lead, Project
from citygrowth.auth.models import AuditEntry
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.settings import Settings
from citygrowth.workdays import working_days_between
from tests.factories import STREET_A, STREET_B, TEST_AUDIT
from tests.factories import local_today as today_local

HTMX = {"HX-Request": "true"}


@pytest.fixture
def sqlite_url(seeded_sqlite_url: str) -> str:
    return seeded_sqlite_url


@pytest.fixture
def keys(seeded_template: tuple[Path, dict[str, dict[str, str]]]) -> dict[str, dict[str, str]]:
    return seeded_template[1]


def _one(settings: Settings, query: Any) -> Any:
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        row = s.scalars(query).first()
        s.expunge_all()
    engine.dispose()
    return row


def _science_project(settings: Settings, area: str | None = None) -> Project:
    q = select(Project).where(Project.department_code == "science").order_by(Project.id)
    if area:
        q = q.where(Project.area_code == area)
    return _one(settings, q)


def _today(settings: Settings) -> dt.date:
    return today_local(settings.timezone)


def test_officer_marks_a_milestone_done_and_the_leader_sees_it(
        client: TestClient, keys: dict, settings: Settings) -> None:
    p = _science_project(settings)
    page = client.get(f"/projects/{p.id}", headers=keys["science"]).text
    assert "节点完成" in page and 'data-testid="form-milestone_done"' in page
    assert 'data-testid="owner">科技局<' in page and "<td>science</td>" not in page
    mid = re.search(r'name="milestone_id"[^>]*>\s*<option value="(\d+)"', page)
    assert mid, "an open milestone to choose"
    r = client.post(f"/projects/{p.id}/milestones/done", headers=keys["science"],
                    data={"milestone_id": mid.group(1), "done_on": str(_today(settings))},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?saved=milestone_done")
    page = client.get(r.headers["location"], headers=keys["science"]).text
    assert "节点已标记完成。" in page and str(_today(settings)) in page
    overview = client.get("/accountability", headers=keys["admin"]).text
    assert "主体工程完工" in overview and p.name_zh in overview  # the feed names it
    audit = _one(settings, select(AuditEntry).where(AuditEntry.action ==
                                                    "project.milestone.done"))
    assert audit.actor == "science"


def test_errors_come_back_next_to_their_fields_in_the_readers_language(
        client: TestClient, keys: dict, settings: Settings) -> None:
    p = _science_project(settings)
    m = p.milestones[0].id if p.milestones else 1
    # plain POST: the whole page again, 422, the error next to the field, nothing written
    r = client.post(f"/projects/{p.id}/milestones/move", headers=keys["science"],
                    data={"milestone_id": str(m), "due_date": "2030-01-01", "reason": ""})
    assert r.status_code == 422 and "<html" in r.text
    assert re.search(r'id="err-milestone_move-reason"[^>]*>此项必填', r.text)
    assert 'aria-invalid="true"' in r.text
    # htmx: only the form comes back, in English when asked
    r = client.post(f"/projects/{p.id}/investments?lang=en", headers=keys["science"] | HTMX,
                    data={"period": "2099-01", "completed_wan": "12"})
    assert r.status_code == 422 and "<html" not in r.text
    assert r.text.lstrip().startswith('<form id="form-investment"')
    assert "The month 2099-01 has not begun yet." in r.text
    r = client.post(f"/projects/{p.id}/stage", headers=keys["science"] | HTMX,
                    data={"stage": "planning", "note": ""})
    # (English still: the language chosen is remembered)
    if p.stage == "planning":
        assert "The project is already at this stage." in r.text
    else:
        assert 'id="err-stage-note"' in r.text and "Say why the project goes back" in r.text
    assert _one(settings, select(Change).where(Change.subject_id == p.id)) is None


def test_htmx_success_redirects_to_the_page(client: TestClient, keys: dict,
                                            settings: Settings) -> None:
    p = _science_project(settings)
    month = _today(settings).strftime("%Y-%m")
    r = client.post(f"/projects/{p.id}/investments", headers=keys["science"] | HTMX,
                    data={"period": month, "completed_wan": "1234", "planned_wan": "1500"})
    assert r.status_code == 204 and r.headers["HX-Redirect"] == \
        f"/projects/{p.id}?saved=investment"
    detail = client.get(f"/api/accountability/projects/{p.id}", headers=keys["analyst"]).json()
    assert detail["investments"][0] == {"period": month, "planned_wan": 1500,
                                        "completed_wan": 1234}


def test_other_departments_and_readers_cannot_update(client: TestClient, keys: dict,
                                                     settings: Settings) -> None:
    p = _science_project(settings)
    page = client.get(f"/projects/{p.id}", headers=keys["industry"]).text
    assert 'data-testid="form-milestone_done"' not in page
    for who in ("industry", "analyst"):
        r = client.post(f"/projects/{p.id}/stage", headers=keys[who],
                        data={"stage": "completed"})
        assert r.status_code == 403


def test_street_raises_a_problem_only_in_its_street(client: TestClient, keys: dict,
                                                    settings: Settings) -> None:
    mine, other = _science_project(settings, STREET_A), _science_project(settings, STREET_B)
    data = {"description": "夜间施工扰民需协调", "owner_department_code": "urban",
            "deadline": str(_today(settings) + dt.timedelta(days=7))}
    r = client.post(f"/projects/{mine.id}/problems", headers=keys["streeta"], data=data,
                    follow_redirects=False)
    assert r.status_code == 303
    assert client.post(f"/projects/{other.id}/problems", headers=keys["streeta"],
                       data=data).status_code == 403
    # the urban officer resolves it; the street's feed shows both, not the other street's
    page = client.get(f"/projects/{mine.id}", headers=keys["urban"]).text
    pid = re.search(r'name="problem_id"[^>]*>\s*<option value="(\d+)"', page)
    assert pid
    r = client.post(f"/projects/{mine.id}/problems/resolve", headers=keys["urban"],
                    data={"problem_id": pid.group(1), "resolution": "已调整施工时间"},
                    follow_redirects=False)
    assert r.status_code == 303
    feed = client.get("/api/accountability/changes", headers=keys["streeta"]).json()["items"]
    assert [c["kind"] for c in feed[:2]] == ["project.blocker_resolved", "project.blocker_raised"]
    assert "城管局" in feed[1]["text"]
    assert all(c["subject"] not in ("lead", "request") for c in feed)


def test_approval_accepted_then_completed_in_working_days(client: TestClient, keys: dict,
                                                          settings: Settings) -> None:
    page = client.get("/approvals", headers=keys["science"]).text
    code = re.search(r'name="code" type="text" value="(AP-\d{4}-\d{4})"', page)
    assert code and "受理登记" in page
    accepted = "2026-09-30T09:30"  # the eve of the National Day holidays
    form = {"code": code.group(1), "name_zh": "新材料中试基地备案", "kind": "filing",
            "project_code": "", "department_code": "science", "area_code": STREET_A,
            "accepted_at": accepted, "limit_days": "3", "note": ""}
    r = client.post("/approvals", headers=keys["science"], data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    item = _one(settings, select(ApprovalItem).where(ApprovalItem.code == code.group(1)))
    assert item.status == "pending" and item.recorded_by == "science"
    r = client.post("/approvals", headers=keys["science"], data=form)
    assert r.status_code == 422 and "已存在" in r.text  # the code is taken: next to the field
    r = client.post(f"/approvals/{item.id}/complete", headers=keys["science"],
                    data={"completed_at": "2026-10-09T16:00", "outcome": "approved"},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/approvals/{item.id}", headers=keys["analyst"]).text
    # counted on the statutory calendar from the day after acceptance to 9 October
    days = working_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 9))
    assert days < 7  # the National Day holidays are not counted
    assert re.search(rf'data-testid="working-days">{days} /', page)
    assert "受理" in page and "办结" in page and "予以批准" not in page.split("<h1>")[0]


def test_officer_may_not_accept_for_another_department(client: TestClient, keys: dict) -> None:
    form = {"code": "AP-2026-9999", "name_zh": "备案", "kind": "filing",
            "department_code": "science", "area_code": STREET_A,
            "accepted_at": "2026-09-30T09:30", "limit_days": "1"}
    assert client.post("/approvals", headers=keys["industry"], data=form).status_code == 403


def test_lead_handover_needs_the_receiving_department(client: TestClient, keys: dict,
                                                      settings: Settings) -> None:
    lead = _one(settings, select(Lead).where(Lead.owner_department_code == "science",
                                             Lead.closed.is_(False)).order_by(Lead.id))
    r = client.post(f"/investment/leads/{lead.id}/handover", headers=keys["science"],
                    data={"department_code": "industry", "note": "属于先进制造业"},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/investment/leads/{lead.id}", headers=keys["science"]).text
    assert 'data-testid="holder">科技局<' in page and "待答复" in page
    assert 'data-testid="form-accept_lead"' not in page  # the giver cannot accept
    assert client.post(f"/investment/leads/{lead.id}/accept",
                       headers=keys["science"]).status_code == 403
    board = client.get("/investment", headers=keys["industry"]).text
    assert 'data-testid="answer-handover"' in board
    r = client.post(f"/investment/leads/{lead.id}/accept", headers=keys["industry"],
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/investment/leads/{lead.id}", headers=keys["industry"]).text
    assert 'data-testid="holder">经信局<' in page and "接收移交" in page
    # a refusal leaves the lead where it was
    client.post(f"/investment/leads/{lead.id}/handover", headers=keys["industry"],
                data={"department_code": "science"})
    r = client.post(f"/investment/leads/{lead.id}/refuse", headers=keys["science"] | HTMX,
                    data={"reason": ""})
    assert r.status_code == 422 and "此项必填" in r.text
    client.post(f"/investment/leads/{lead.id}/refuse", headers=keys["science"],
                data={"reason": "不在本部门职责内"})
    api = client.get("/api/accountability/leads", headers=keys["analyst"]).json()["items"]
    row = next(x for x in api if x["id"] == lead.id)
    assert (row["owner_department_code"], row["handover_to"]) == ("industry", None)
    kinds = [c["kind"] for c in client.get("/api/accountability/changes",
                                           headers=keys["admin"]).json()["items"][:4]]
    assert kinds == ["lead.refused", "lead.handover", "lead.accepted", "lead.handover"]


def test_service_request_deadline_and_answer(client: TestClient, keys: dict,
                                             settings: Settings) -> None:
    page = client.get("/investment", headers=keys["science"]).text
    ent = re.search(r'id="request-enterprise_id"[^>]*>\s*<option value="">[^<]*</option>\s*'
                    r'<option value="(\d+)"', page)
    assert ent
    r = client.post("/investment/requests", headers=keys["science"],
                    data={"enterprise_id": ent.group(1), "topic": "technology",
                          "description": "申请高新技术企业认定辅导",
                          "due_on": str(_today(settings) - dt.timedelta(days=1))})
    assert r.status_code == 422 and "已过" in r.text
    r = client.post("/investment/requests", headers=keys["science"],
                    data={"enterprise_id": ent.group(1), "topic": "technology",
                          "description": "申请高新技术企业认定辅导"}, follow_redirects=False)
    assert r.status_code == 303
    rows = client.get("/api/accountability/service-requests",
                      headers=keys["science"]).json()["items"]
    mine = rows[-1]
    assert mine["department_code"] == "science" and mine["department"] == "科技局"
    assert mine["due_on"] > str(_today(settings)) and mine["can_answer"]
    r = client.post("/investment/requests/answer", headers=keys["science"],
                    data={"request_id": str(mine["id"]), "status": "done", "response": ""})
    assert r.status_code == 422 and "请填写给企业的答复" in r.text
    r = client.post("/investment/requests/answer", headers=keys["science"],
                    data={"request_id": str(mine["id"]), "status": "done",
                          "response": "已安排专员辅导"}, follow_redirects=False)
    assert r.status_code == 303


def test_new_lead_with_a_new_enterprise_is_all_or_nothing(client: TestClient, keys: dict,
                                                          settings: Settings) -> None:
    data = {"enterprise_id": "", "enterprise_name": "青岛示例新材料有限公司",
            "title_zh": "", "industry": "sci_tech", "department_code": "science",
            "area_code": STREET_A, "expected_wan": "5000"}
    r = client.post("/investment/leads", headers=keys["science"], data=data)
    assert r.status_code == 422 and 'id="err-lead-title_zh"' in r.text
    total = client.get("/api/accountability/funnel", headers=keys["science"]).json()["total"]
    assert total == 48  # nothing written, not even the enterprise's lead
    r = client.post("/investment/leads", headers=keys["science"],
                    data=data | {"title_zh": "新材料中试线落户"}, follow_redirects=False)
    assert r.status_code == 303
    leads = client.get("/api/accountability/leads", headers=keys["industry"]).json()["items"]
    assert leads[-1]["enterprise"] == "青岛示例新材料有限公司"
    assert leads[-1]["source_department"] == "科技局"


def _workbook(sheets: dict[str, list[list[Any]]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_excel_updates_template_and_all_or_nothing_import(client: TestClient, keys: dict,
                                                          settings: Settings) -> None:
    r = client.get("/projects/updates/template.xlsx", headers=keys["science"])
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["instructions", "investment", "milestones", "stage", "problems"]
    rows = list(wb["investment"].iter_rows(values_only=True))
    assert rows[0][:4] == ("project_code", "period", "completed_wan", "planned_wan")
    codes = [row[0] for row in rows[1:]]
    assert codes and all(c.startswith("KP-") for c in codes)  # science's projects only
    p = _science_project(settings)
    month = _today(settings).strftime("%Y-%m")
    bad = _workbook({
        "investment": [["project_code", "period", "completed_wan"], [p.code, month, 800],
                       ["KP-999", month, 5], [p.code, "2099-01", 7]],
        "stage": [["project_code", "stage"], [p.code, "finished"]],
    })
    r = client.post("/projects/updates", headers=keys["science"],
                    files={"file": ("updates.xlsx", bad)})
    assert r.status_code == 422
    text = re.sub(r"\s+", " ", r.text)
    assert "updates.xlsx › investment" in text and "KP-999" in text
    assert "2099-01 尚未开始" in text and "updates.xlsx › stage" in text
    detail = client.get(f"/api/accountability/projects/{p.id}", headers=keys["science"]).json()
    assert all(i["completed_wan"] != 800 or i["period"] != month
               for i in detail["investments"])  # the good row was not kept either
    good = _workbook({"investment": [["project_code", "period", "completed_wan"],
                                     [p.code, month, 800]],
                      "stage": [["project_code", "stage", "note"]]})
    r = client.post("/api/accountability/import/project-updates", headers=keys["science"],
                    files={"file": ("updates.xlsx", good)})
    assert r.json() == {"applied": {"investment": 1}, "total": 1}
    other = _workbook({"investment": [["project_code", "period", "completed_wan"],
                                      [p.code, month, 1]]})
    r = client.post("/api/accountability/import/project-updates", headers=keys["industry"],
                    files={"file": ("updates.xlsx", other)})
    assert r.status_code == 422 and r.json()["errors"][0]["row"] == 2


def test_overview_counts_move_with_the_desk(client: TestClient, keys: dict,
                                            settings: Settings) -> None:
    before = client.get("/api/accountability/overview", headers=keys["admin"]).json()["desk"]
    lead = _one(settings, select(Lead).where(Lead.owner_department_code == "science",
                                             Lead.closed.is_(False)).order_by(Lead.id))
    client.post(f"/investment/leads/{lead.id}/handover", headers=keys["science"],
                data={"department_code": "industry"})
    after = client.get("/api/accountability/overview", headers=keys["admin"]).json()
    assert after["desk"]["desk"]["handovers"] == before["desk"]["handovers"] + 1
    assert after["changes"][0]["kind"] == "lead.handover"
    assert after["changes"][0]["department"] == "科技局"
    page = client.get("/accountability", headers=keys["admin"]).text
    assert re.search(r'data-testid="handovers">待接收移交 \d+ 条', page)
