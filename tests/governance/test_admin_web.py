"""The administration pages and their JSON twins for case categories and dispatch rules, on an
app over SQLite and over PostgreSQL: who may open them, forms with CSRF and errors next to the
field in both languages, and what intake and dispatch do afterwards."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from citygrowth.auth.models import AuditEntry
from citygrowth.governance.taxonomy import ensure_taxonomy
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, TEST_AUDIT, make_areas, make_department, make_user
from tests.governance.conftest import DEPTS, POS_A, RUNTIME
from tests.web.login import login

PASSWORD = "secret-pass-1"


class Site:
    def __init__(self, client: TestClient, factory: Any) -> None:
        self.client, self.factory = client, factory

    def audit(self) -> list[str]:
        with self.factory() as s:
            return [e.action for e in s.scalars(select(AuditEntry).where(
                AuditEntry.action.like("case_category.%") | AuditEntry.action.like(
                    "dispatch_rule.%")).order_by(AuditEntry.id))]


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Iterator[Site]:
    from citygrowth.app import create_app
    from citygrowth.db import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    factory = make_sessionmaker(engine, TEST_AUDIT)
    with factory() as s:
        make_areas(s)
        for d in DEPTS:
            make_department(s, d, f"{d}局", f"{d} bureau")
        ensure_taxonomy(s, RUNTIME)
        make_user(s, "admin", ("district_admin", DISTRICT))
        make_user(s, "cmd", ("street_commander", STREET_A))
        make_user(s, "worker", ("grid_worker", STREET_A + "001001"))
        s.commit()
    app = create_app(Settings(data_dir=tmp_path / "var", database_url=db_url, env="test",
                              secret_key="test-secret", scheduler_enabled=False))
    with TestClient(app) as client:
        yield Site(client, factory)
    engine.dispose()


def _token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m
    return m.group(1)


def test_pages_render_for_the_administrator_in_both_languages(site: Site) -> None:
    c = site.client
    login(c, "admin", PASSWORD)
    zh = c.get("/admin/cases/categories?lang=zh_CN")
    assert zh.status_code == 200
    assert '<a href="/admin/cases/categories">案件配置</a>' in zh.text  # the nav item
    assert "案件类别" in zh.text and 'data-testid="cat-E0101"' in zh.text
    assert "暴露垃圾" in zh.text and "停用" in zh.text and "处置时限（工作小时）" in zh.text
    en = c.get("/admin/cases/categories?lang=en")
    assert "Case categories" in en.text and "Exposed garbage" in en.text
    assert '<a href="/admin/cases/categories">Case settings</a>' in en.text
    assert "Time limit (working hours)" in en.text
    for path in ("/admin/cases/categories/new?parent=E01", "/admin/cases/categories/E0101/edit",
                 "/admin/cases/rules", "/admin/cases/rules/new"):
        r = c.get(path + ("&" if "?" in path else "?") + "lang=en")
        assert r.status_code == 200, path
        assert 'name="csrf_token"' in r.text or path == "/admin/cases/rules"
    assert "Add a dispatch rule" in c.get("/admin/cases/rules").text
    assert "新增派遣规则" in c.get("/admin/cases/rules?lang=zh_CN").text
    assert c.get("/admin/cases/categories/E9999/edit").status_code == 404
    assert c.get("/admin/cases/rules/99/edit").status_code == 404


def test_street_commander_and_anonymous_are_kept_out(site: Site) -> None:
    c = site.client
    paths = ("/admin/cases/categories", "/admin/cases/categories/new",
             "/admin/cases/categories/E0101/edit", "/admin/cases/rules", "/admin/cases/rules/new")
    for path in paths:
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/admin/")
    for method, path in (("get", "/api/admin/cases/categories"),
                         ("post", "/api/admin/cases/categories"),
                         ("get", "/api/admin/cases/rules"),
                         ("delete", "/api/admin/cases/rules/1")):
        r = c.request(method, path, json={"code": "E08", "name_zh": "x"}
                      if method == "post" else None)
        assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
    login(c, "cmd", PASSWORD)
    assert "/admin/cases/categories" not in c.get("/command").text  # no nav item
    for path in paths:
        r = c.get(path, headers={"Accept": "text/html"})
        assert r.status_code == 403 and "<html" in r.text
    r = c.post("/admin/cases/categories/E0101/active", data={
        "active": "0", "csrf_token": c.headers["X-CSRF-Token"]}, follow_redirects=False)
    assert r.status_code == 403
    for method, path in (("get", "/api/admin/cases/categories"),
                         ("post", "/api/admin/cases/categories/E0101/deactivate"),
                         ("get", "/api/admin/cases/rules")):
        r = c.request(method, path)
        assert r.status_code == 403 and set(r.json()) == {"ok", "error", "code", "errors"}
    r = c.post("/api/admin/cases/rules", json={"department_code": "urban"})
    assert r.status_code == 403
    assert site.audit() == []
    with site.factory() as s:
        from citygrowth.governance.models import CaseCategory

        assert s.get(CaseCategory, "E0101").active


def test_category_forms_then_intake(site: Site) -> None:
    c = site.client
    login(c, "admin", PASSWORD)
    form = c.get("/admin/cases/categories/new?parent=E01").text
    token = _token(form)
    data = {"parent_code": "E01", "code": "E0104", "name_zh": "乱倒污水",
            "name_en": "Dumped sewage", "department_code": "ecology", "time_limit_hours": "6"}
    # a form without the session's CSRF token is refused
    r = c.post("/admin/cases/categories/new", data=data, follow_redirects=False,
               headers={"X-CSRF-Token": ""})
    assert r.status_code == 403 and site.audit() == []
    r = c.post("/admin/cases/categories/new", data={**data, "csrf_token": token},
               follow_redirects=False, headers={"X-CSRF-Token": ""})
    assert r.status_code == 303 and r.headers["location"] == "/admin/cases/categories"
    page = c.get("/admin/cases/categories?lang=en").text
    assert 'data-testid="cat-E0104"' in page and "Dumped sewage" in page
    cats = c.get("/api/cases/categories").json()["items"]
    assert "E0104" in [x["code"] for x in cats]
    report = {"category_code": "E0104", "lat": POS_A[1], "lon": POS_A[0], "description": "污水"}
    assert c.post("/api/cases", json=report).status_code == 201

    r = c.post("/admin/cases/categories/E0104/edit", data={
        "csrf_token": token, "name_zh": "乱倒污水", "name_en": "Sewage",
        "department_code": "urban", "time_limit_hours": "4.5"}, follow_redirects=False)
    assert r.status_code == 303
    one = c.get("/api/admin/cases/categories/E0104").json()["category"]
    assert (one["name_en"], one["department_code"], one["time_limit_hours"]) == (
        "Sewage", "urban", 4.5)
    assert 'value="4.5"' in c.get("/admin/cases/categories/E0104/edit").text

    r = c.post("/admin/cases/categories/E0104/active", data={"csrf_token": token, "active": "0"},
               follow_redirects=False)
    assert r.status_code == 303
    assert 'data-testid="reactivate-E0104"' in c.get("/admin/cases/categories").text
    refused = c.post("/api/cases?lang=en", json={**report, "description": "又一次"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "category_code"
    assert refused.json()["errors"][0]["message"] == "No case category E0104."
    assert "E0104" not in [x["code"] for x in c.get("/api/cases/categories").json()["items"]]
    assert site.audit() == ["case_category.create", "case_category.update",
                            "case_category.deactivate"]


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_form_errors_are_shown_next_to_the_field(site: Site, lang: str) -> None:
    c = site.client
    login(c, "admin", PASSWORD)
    token = _token(c.get("/admin/cases/categories/new").text)
    r = c.post(f"/admin/cases/categories/new?lang={lang}", data={
        "csrf_token": token, "parent_code": "E77", "code": "E0101", "name_zh": "",
        "department_code": "nobody", "time_limit_hours": "-2"})
    assert r.status_code == 422
    expected = {
        "parent_code": {"zh_CN": "没有案件类别 E77。", "en": "No case category E77."},
        "name_zh": {"zh_CN": "必须填写中文名称。", "en": "A Chinese name is required."},
        "department_code": {"zh_CN": "没有可派遣的部门 nobody。",
                            "en": "No department nobody to dispatch to."},
        "time_limit_hours": {"zh_CN": "请输入大于 0、不超过 1000 的数字。",
                             "en": "Enter a number greater than 0 and at most 1000."},
    }
    for field, msgs in expected.items():
        m = re.search(rf'data-testid="error-{field}"[^>]*>([^<]*)<', r.text)
        assert m and m.group(1) == msgs[lang], field
        assert f'id="{field}" ' in r.text and f'aria-describedby="err-{field}"' in r.text
    assert 'value="E0101"' in r.text  # what was typed is kept
    r = c.post(f"/admin/cases/categories/new?lang={lang}", data={
        "csrf_token": token, "parent_code": "E01", "code": "E0101", "name_zh": "重复"})
    m = re.search(r'data-testid="error-code"[^>]*>([^<]*)<', r.text)
    assert m and m.group(1) == {"zh_CN": "代码为 E0101 的类别已存在。",
                                "en": "A category with the code E0101 exists already."}[lang]
    r = c.post(f"/admin/cases/rules/new?lang={lang}", data={
        "csrf_token": token, "category_code": "E9999", "area_prefix": "370203999",
        "department_code": "", "priority": "x"})
    assert r.status_code == 422
    found = dict(re.findall(r'data-testid="error-(\w+)"[^>]*>([^<]*)<', r.text))
    assert found == {
        "zh_CN": {"category_code": "没有案件类别 E9999。",
                  "area_prefix": "没有代码为 370203999 的区域。",
                  "department_code": "请选择部门。", "priority": "请输入整数。"},
        "en": {"category_code": "No case category E9999.",
               "area_prefix": "No area has the code 370203999.",
               "department_code": "Choose a department.", "priority": "Enter a whole number."},
    }[lang]
    assert site.audit() == []


def test_rule_forms_then_dispatch(site: Site) -> None:
    c = site.client
    login(c, "admin", PASSWORD)
    token = _token(c.get("/admin/cases/rules/new").text)
    r = c.post("/admin/cases/rules/new", data={
        "csrf_token": token, "category_code": "E0101", "area_prefix": STREET_A,
        "department_code": "market", "priority": "3", "note": "试点"}, follow_redirects=False)
    assert r.status_code == 303
    rules = c.get("/api/admin/cases/rules").json()["items"]
    assert [(x["category_code"], x["area_prefix"], x["department_code"], x["priority"])
            for x in rules] == [("E0101", STREET_A, "market", 3)]
    rid = rules[0]["id"]
    page = c.get("/admin/cases/rules?lang=en").text
    assert f'data-testid="rule-{rid}"' in page and "Street 1" in page
    case = c.post("/api/cases", json={"category_code": "E0101", "lat": POS_A[1],
                                      "lon": POS_A[0], "description": "垃圾"}).json()["id"]
    for action in ("register", "dispatch"):
        assert c.post(f"/api/cases/{case}/actions/{action}", json={}).status_code == 200
    assert c.get(f"/api/cases/{case}").json()["case"]["department_code"] == "market"

    r = c.post(f"/admin/cases/rules/{rid}/edit", data={
        "csrf_token": token, "category_code": "", "area_prefix": "",
        "department_code": "civil", "priority": "0"}, follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/api/admin/cases/rules").json()["items"][0]["department_code"] == "civil"
    r = c.post(f"/admin/cases/rules/{rid}/delete", data={"csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/api/admin/cases/rules").json()["items"] == []
    case2 = c.post("/api/cases", json={"category_code": "E0101", "lat": POS_A[1],
                                       "lon": POS_A[0], "description": "又有垃圾"}).json()["id"]
    for action in ("register", "dispatch"):
        c.post(f"/api/cases/{case2}/actions/{action}", json={})
    assert c.get(f"/api/cases/{case2}").json()["case"]["department_code"] == "urban"
    assert site.audit() == ["dispatch_rule.create", "dispatch_rule.update",
                            "dispatch_rule.delete"]


def test_json_api(site: Site) -> None:
    c = site.client
    login(c, "admin", PASSWORD)
    tree = c.get("/api/admin/cases/categories").json()["items"]
    e01 = next(x for x in tree if x["code"] == "E01")
    assert e01["parent_code"] is None and "E0101" in [s["code"] for s in e01["sub_categories"]]
    r = c.post("/api/admin/cases/categories", json={
        "code": "E08", "name_zh": "网格事务", "name_en": "Grid affairs", "time_limit_hours": 8})
    assert r.status_code == 201 and r.json()["category"]["kind"] == "event"
    r = c.post("/api/admin/cases/categories?lang=zh_CN", json={
        "code": "E08", "parent_code": "E01", "name_zh": "", "time_limit_hours": 0})
    body = r.json()
    assert r.status_code == 422 and set(body) == {"ok", "error", "code", "errors"}
    assert body["code"] == "invalid" and body["ok"] is False
    assert {e["field"]: e["message"] for e in body["errors"]} == {
        "code": "小类代码为所属大类代码加两位数字，例如 E0101。", "name_zh": "必须填写中文名称。",
        "time_limit_hours": "请输入大于 0、不超过 1000 的数字。"}
    r = c.put("/api/admin/cases/categories/E08", json={"name_zh": "网格事务", "name_en": "Grid",
                                                       "department_code": "civil"})
    assert r.status_code == 200 and r.json()["category"]["department_code"] == "civil"
    assert c.put("/api/admin/cases/categories/E08", json={"code": "E09"}).status_code == 422
    assert c.put("/api/admin/cases/categories/E99", json={"name_zh": "x"}).status_code == 404
    r = c.post("/api/admin/cases/categories/E01/deactivate")
    assert r.status_code == 200 and r.json()["category"]["active"] is False
    r = c.post("/api/admin/cases/categories/E0101/reactivate?lang=en")
    assert r.status_code == 409 and r.json()["error"] == "Reactivate its category E01 first."
    assert c.post("/api/admin/cases/categories/E01/reactivate").json()["category"]["active"]

    r = c.post("/api/admin/cases/rules", json={"category_code": "E08", "area_prefix": STREET_A,
                                               "department_code": "civil", "priority": 2})
    assert r.status_code == 201
    rid = r.json()["rule"]["id"]
    r = c.put(f"/api/admin/cases/rules/{rid}?lang=en", json={
        "area_prefix": "99", "department_code": "civil"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "area_prefix"
    r = c.put(f"/api/admin/cases/rules/{rid}", json={"department_code": "urban"})
    assert r.status_code == 200 and r.json()["rule"]["area_prefix"] == ""
    assert c.delete(f"/api/admin/cases/rules/{rid}").json() == {"ok": True, "deleted": rid}
    assert c.delete(f"/api/admin/cases/rules/{rid}").status_code == 404
    spec = c.get("/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(spec["/api/admin/cases/categories"])
    assert {"put", "delete"} <= set(spec["/api/admin/cases/rules/{rule_id}"])
    assert "post" in spec["/api/admin/cases/categories/{code}/deactivate"]
    assert site.audit() == ["case_category.create", "case_category.update",
                            "case_category.deactivate", "case_category.reactivate",
                            "dispatch_rule.create", "dispatch_rule.update",
                            "dispatch_rule.delete"]
