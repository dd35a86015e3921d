"""Pages (Chinese first), their JSON/CSV/Excel twins, uploads and the write API."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from citygrowth.accountability.evidence import UploadTooLarge, check_upload
from citygrowth.accountability.models import Target
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.settings import Settings
from tests.factories import TEST_AUDIT

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def sqlite_url(seeded_sqlite_url: str) -> str:
    """This module's store is the seeded demo (overrides the empty store)."""
    return seeded_sqlite_url


@pytest.fixture
def keys(seeded_template: tuple[Path, dict[str, dict[str, str]]]) -> dict[str, dict[str, str]]:
    return seeded_template[1]


def target_id(settings: Settings, code: str) -> int:
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        t = s.query(Target).filter(Target.code == code).one()
        engine.dispose()
        return t.id


def test_leadership_and_target_pages_in_chinese(client: TestClient, keys: dict,
                                                settings: Settings) -> None:
    r = client.get("/accountability", headers=keys["analyst"])
    assert r.status_code == 200
    assert "责任落实：各部门目标任务" in r.text and "三年新建学校20所" in r.text
    tid = target_id(settings, "T-SCHOOLS")
    page = client.get(f"/targets/{tid}", headers=keys["analyst"]).text
    assert "牵头部门" in page and "报告进度" not in page  # analysts read only
    page = client.get(f"/targets/{tid}", headers=keys["edu"]).text
    assert "报告进度" in page and 'name="csrf_token"' in page
    dept = client.get("/accountability/departments/housing", headers=keys["admin"]).text
    assert "三年新建学校20所" in dept  # co-owned by housing
    red = client.get("/targets?status=red", headers=keys["analyst"]).text
    assert "严重滞后" in red and "正常推进</span>" not in red
    assert "落后计划 5 个百分点及以上" in red  # the status rules, in Chinese
    assert client.get("/targets?lang=en", headers=keys["analyst"]).text.count("On track") >= 2


def test_projects_approvals_investment_pages(client: TestClient, keys: dict) -> None:
    h = keys["admin"]
    projects = client.get("/projects", headers=h).text
    assert 'data-testid="project-count">119<' in projects
    assert 'data-testid="project-total">1,530.00<' in projects and "示意数据" in projects
    assert "/api/areas.geojson?level=street&amp;parent=370203" in projects
    approvals = client.get("/approvals", headers=h).text
    assert "项目审批：审批用时（工作日）" in approvals
    assert 'data-testid="median-this-year">1<' in approvals
    inv = client.get("/investment", headers=h).text
    assert 'data-testid="lead-total">48<' in inv and "一站式招商服务平台" in inv


def test_json_csv_and_excel_twins(client: TestClient, keys: dict) -> None:
    h = keys["analyst"]
    ov = client.get("/api/accountability/overview", headers=h).json()
    assert sum(ov["counts"].values()) == 12 and ov["chart"]["series"][0]["type"] == "bar"
    pj = client.get("/api/accountability/projects", headers=h).json()
    assert pj["portfolio"]["total_wan"] == 15_300_000 and len(pj["items"]) == 119
    assert pj["charts"]["map"]["series"][0]["coordinateSystem"] == "geo"
    csv = client.get("/api/accountability/export/projects.csv", headers=h)
    assert csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.strip().splitlines()) == 120
    xlsx = client.get("/api/accountability/export/leads.xlsx", headers=h)
    ws = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert ws.max_row == 49 and ws.cell(1, 1).value == "编号"
    stats = client.get("/api/accountability/approvals/stats", headers=h).json()
    assert stats["chart"]["xAxis"]["data"][0].startswith("2019")
    funnel = client.get("/api/accountability/funnel", headers=h).json()
    assert [s["stage"] for s in funnel["stages"]][-1] == "landed"


def test_anonymous_gets_401_in_the_one_error_shape(client: TestClient) -> None:
    r = client.get("/api/accountability/targets")
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"


def test_progress_and_evidence_by_owner_only(client: TestClient, keys: dict,
                                             settings: Settings) -> None:
    tid = target_id(settings, "T-SCHOOLS")
    body = {"reported_on": dt.date.today().isoformat(), "value": 7}
    denied = client.post(f"/api/accountability/targets/{tid}/progress", json=body,
                         headers=keys["urban"])
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    ok = client.post(f"/api/accountability/targets/{tid}/progress", json=body,
                     headers=keys["edu"])
    assert ok.status_code == 201
    assert client.get(f"/api/accountability/targets/{tid}",
                      headers=keys["analyst"]).json()["latest_value"] == 7
    up = client.post(f"/api/accountability/targets/{tid}/evidence", headers=keys["edu"],
                     files={"file": ("site.png", PNG, "image/png")})
    assert up.status_code == 201
    got = client.get(f"/api/accountability/evidence/{up.json()['id']}", headers=keys["analyst"])
    assert got.content == PNG and got.headers["content-type"] == "image/png"
    assert (settings.data_dir / "uploads" / "accountability").is_dir()
    bad = client.post(f"/api/accountability/targets/{tid}/evidence", headers=keys["edu"],
                      files={"file": ("tool.exe", b"MZ\x90\x00", "application/octet-stream")})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "file"
    fake = client.post(f"/api/accountability/targets/{tid}/evidence", headers=keys["edu"],
                       files={"file": ("photo.jpg", b"GIF89a....", "image/jpeg")})
    assert fake.status_code == 422
    assert fake.json()["errors"][0]["message"] == "文件内容与其类型“.jpg”不符。"


def test_upload_size_limit() -> None:
    assert check_upload("a.png", PNG, 1) == "image/png"
    with pytest.raises(UploadTooLarge) as exc:
        check_upload("a.png", PNG + b"\x00" * (1024 * 1024), 1)
    assert exc.value.status == 413


def test_shared_lead_through_the_api(client: TestClient, keys: dict) -> None:
    leads = client.get("/api/accountability/leads", headers=keys["industry"]).json()["items"]
    sci_lead = next(x for x in leads if x["owner_department_code"] == "science"
                    and not x["closed"])
    lid = sci_lead["id"]
    r = client.post(f"/api/accountability/leads/{lid}/follow-ups", json={"note": "协助对接"},
                    headers=keys["industry"])
    assert r.status_code == 201
    r = client.post(f"/api/accountability/leads/{lid}/close", json={"reason": "x"},
                    headers=keys["industry"])
    assert r.status_code == 403
    hist = client.get(f"/api/accountability/leads/{lid}/history", headers=keys["admin"]).json()
    assert hist["items"][-1]["department_code"] == "industry"
    # there is no way to delete a lead
    assert client.delete(f"/api/accountability/leads/{lid}", headers=keys["admin"]) \
        .status_code in (404, 405)


def test_import_api_reports_bad_rows(client: TestClient, keys: dict) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["code", "name_zh", "department", "area_code", "target_value", "start_date",
               "deadline"])
    ws.append(["T-NEW", "新目标", "urban", "370203", "lots", "2026-01-01", "2026-12-31"])
    buf = io.BytesIO()
    wb.save(buf)
    r = client.post("/api/accountability/import/targets", headers=keys["admin"],
                    files={"file": ("new.xlsx", buf.getvalue(), "application/octet-stream")})
    assert r.status_code == 422
    assert r.json()["errors"] == [{"message": "不是数字。", "file": "new.xlsx", "row": 2,
                                   "field": "target_value", "value": "lots"}]
    denied = client.post("/api/accountability/import/targets", headers=keys["urban"],
                         files={"file": ("new.xlsx", buf.getvalue(), "application/x")})
    assert denied.status_code == 403
