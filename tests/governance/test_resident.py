"""Residents' pages: report with photos and a pin, follow the case in plain words and local
time with the department's reply and after-photo, rate and reopen; my reports; reports around
with personal data hidden; staff reporting by pin; evidence on the case page."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from sqlalchemy import select

from citygrowth.auth.models import RoleGrant, User
from citygrowth.auth.passwords import hash_password
from citygrowth.governance.models import Case, CaseEvent
from tests.factories import DISTRICT
from tests.governance.conftest import GRID_A, POS_A, POS_B, Web, image_bytes, upload
from tests.web.login import form_token, login

TZ = ZoneInfo("Asia/Shanghai")  # the test settings' district zone (the settings default)
TOKEN = re.compile(r"/track/([A-Za-z0-9_-]+)")


def _form(web: Web, category: str = "C0105", pos: tuple[float, float] = POS_A,
          **extra: str) -> dict[str, str]:
    return {"category_code": category, "lon": str(pos[0]), "lat": str(pos[1]),
            "description": "路灯不亮", "contact": "13800000000",
            "csrf_token": form_token(web.client, "/report"), **extra}


def _photos(n: int = 1) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("photo", (f"p{i}.jpg", image_bytes("JPEG", (800, 600)), "image/jpeg"))
            for i in range(n)]


def _report(web: Web, **kw: object) -> tuple[str, Case]:
    r = web.client.post("/report", data=_form(web, **kw),  # type: ignore[arg-type]
                        files=_photos(), follow_redirects=False)
    assert r.status_code == 303, r.text
    token = TOKEN.search(r.headers["location"]).group(1)  # type: ignore[union-attr]
    with web.factory() as s:
        case = s.scalar(select(Case).where(Case.token == token))
        assert case is not None
        s.expunge(case)
    return token, case


def _act(web: Web, who: str, case_id: int, action: str, photos: int = 0,
         **fields: str) -> str:
    r = web.client.post(f"/command/cases/{case_id}/act", headers=web.h(who),
                        data={"action": action, **fields}, files=_photos(photos) or None,
                        follow_redirects=False)
    assert r.status_code in (303, 422), r.text
    return r.text if r.status_code == 422 else ""


def test_report_page_offers_categories_map_photos_for_everyone(web: Web) -> None:
    page = web.client.get("/report?lang=zh_CN")
    assert page.status_code == 200
    text = page.text
    assert 'data-testid="cat-C0105"' in text and "路灯" in text and "icons.svg#lamp-floor" in text
    assert 'id="report-map"' in text and 'name="photo"' in text and "multiple" in text
    assert "<script>" not in text and "onclick" not in text  # no inline script
    home = web.client.get("/")
    assert 'data-testid="report-cta"' in home.text and 'href="/report"' in home.text
    assert "我要上报" in home.text  # in the navigation too, for anyone


def test_anonymous_report_gets_a_tracking_page_with_its_photos(web: Web) -> None:
    c = web.client
    token, case = _report(web)
    assert case.area_code == GRID_A and case.source == "resident" and case.reporter_user_id is None
    assert case.reporter_contact == "13800000000" and len(case.photos) == 1
    page = c.get(f"/track/{token}?sent=1&lang=zh_CN").text
    assert 'data-testid="tracking-number"' in page and token in page
    assert "已上报" in page and "街道1 · 社区1-1 · 网格1-1-1" in page
    assert case.reported_at.astimezone(TZ).strftime("%Y-%m-%d %H:%M") in page
    thumbs = re.findall(rf'src="(/track/{token}/photos/[0-9a-f]{{32}}\.thumb\.jpg)"', page)
    assert len(thumbs) == 1 and "13800000000" not in page
    photo = c.get(thumbs[0])
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert c.get(case.photos[0]).status_code == 404  # the staff URL needs a login
    mine = c.get("/my/reports")  # this browser remembers its reports
    assert f"/track/{token}" in mine.text


def test_a_form_sent_back_names_each_problem(web: Web) -> None:
    c = web.client
    empty = c.post("/report", data={"csrf_token": form_token(c, "/report")},
                   headers={"Accept": "text/html"})
    assert empty.status_code == 422
    assert 'data-testid="error-description"' in empty.text
    missing = c.post("/report", data=_form(web, category="", description="x"))
    assert missing.status_code == 422 and 'data-testid="error-category_code"' in missing.text
    assert 'value="13800000000"' in missing.text  # what was typed stays
    five = c.post("/report", data=_form(web), files=_photos(5))
    assert five.status_code == 422 and 'data-testid="error-photo"' in five.text
    html = c.post("/report", data=_form(web), files=[
        ("photo", ("evil.png", b"<html><script>alert(1)</script>", "image/png"))])
    assert html.status_code == 422 and "evil.png" in html.text
    outside = c.post("/report", data=_form(web, pos=(121.5, 31.2)), files=_photos())
    assert outside.status_code == 422 and 'data-testid="error-lat"' in outside.text
    huge = c.post("/report", content=b"x" * 10, headers={
        "Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(10 ** 9),
        "X-CSRF-Token": form_token(c, "/report")})
    assert huge.status_code == 413
    with web.factory() as s:
        assert s.scalar(select(Case.id)) is None  # nothing was written


def test_staff_report_by_placing_the_pin_within_their_area(web: Web) -> None:
    c = web.client
    r = c.post("/report", headers=web.h("worker_a"), data={
        "category_code": "E0101", "lon": str(POS_A[0]), "lat": str(POS_A[1]),
        "description": "暴露垃圾"}, follow_redirects=False)
    assert r.status_code == 303
    away = c.post("/report", headers=web.h("worker_a"), data={
        "category_code": "E0101", "lon": str(POS_B[0]), "lat": str(POS_B[1]),
        "description": "别处"})
    assert away.status_code == 422 and "error-lat" in away.text
    street = c.post("/report", headers=web.h("cmd_a"), data={
        "category_code": "E0101", "lon": str(POS_A[0]), "lat": str(POS_A[1] + 0.001),
        "description": "热线来电"}, follow_redirects=False)
    assert street.status_code == 303
    with web.factory() as s:
        sources = [x.source for x in s.scalars(select(Case).order_by(Case.id))]
    assert sources == ["patrol", "hotline"]
    page = c.get("/report", headers=web.h("worker_a")).text
    assert f'"focus": "{GRID_A}"' in page  # the map opens on the worker's grid cell


def test_the_loop_with_evidence_in_plain_words_and_local_time(web: Web) -> None:
    c = web.client
    token, case = _report(web)
    for who, action, extra in (("cmd_a", "register", {}),
                               ("cmd_a", "dispatch", {"department_code": "urban"}),
                               ("urban", "accept", {})):
        _act(web, who, case.id, action, **extra)
    refused = _act(web, "urban", case.id, "handle", note="已修复")  # 路灯 needs an after-photo
    assert "error-photos" in refused and "已修复" not in refused.split("History")[0]
    _act(web, "urban", case.id, "handle", photos=1, note="已更换灯泡")
    _act(web, "worker_a", case.id, "verify", photos=1, note="现场已亮")
    internal = upload(web, "cmd_a")
    assert c.post(f"/api/cases/{case.id}/actions/supervise", headers=web.h("cmd_a"),
                  json={"note": "内部督办", "photos": [internal]}).status_code == 200
    _act(web, "cmd_a", case.id, "close")

    page = c.get(f"/track/{token}?lang=zh_CN").text
    steps = re.findall(r'<span class="title">([^<]+)</span>', page)
    assert steps == ["已上报", "已立案", "已派遣至urban", "处置中（urban）",
                     "已反馈：urban已处置", "已核查", "已结案"]
    assert "已更换灯泡" in page and "现场已亮" in page and "内部督办" not in page
    with web.factory() as s:
        events = {e.action: e for e in s.scalars(select(CaseEvent).where(
            CaseEvent.case_id == case.id))}
    for e in events.values():
        assert e.at.astimezone(TZ).strftime("%Y-%m-%d %H:%M") in page or e.action == "supervise"
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\+00:00", page)
    after = events["handle"].photos[0].rsplit("/", 1)[1]
    assert c.get(f"/track/{token}/photos/{after}").status_code == 200
    hidden = internal.rsplit("/", 1)[1]
    assert c.get(f"/track/{token}/photos/{hidden}").status_code == 404  # an internal step
    assert c.get(internal, headers=web.h("cmd_a")).status_code == 200
    assert "Dispatched to urban" in c.get(f"/track/{token}?lang=en").text
    api = c.get(f"/api/cases/{case.id}", headers=web.h("cmd_a")).json()
    assert api["case"]["reported_at"].endswith("+08:00")  # ISO 8601, the district's offset
    assert all(e["at"].endswith("+08:00") for e in api["events"])
    assert api["case"]["department"] == "urban" and api["events"][0]["to_label"]

    staff = c.get(f"/command/cases/{case.id}?lang=zh_CN", headers=web.h("cmd_a")).text
    for stage in ("report", "handle", "verify"):
        assert f'data-testid="evidence-{stage}"' in staff
    assert staff.count('.thumb.jpg"') >= 4 and "13800000000" in staff  # contact for staff
    assert "已更换灯泡" in staff and "urban" in staff

    csrf = form_token(c, f"/track/{token}")
    assert c.post(f"/track/{token}/rate", data={"rating": "5", "csrf_token": csrf}).is_success
    rated = c.get(f"/track/{token}?lang=zh_CN").text
    assert 'data-testid="your-rating"' in rated and 'data-testid="send-rating"' not in rated
    c.post(f"/track/{token}/reopen", data={"note": "又坏了", "csrf_token": csrf})
    reopened = c.get(f"/track/{token}?lang=zh_CN").text
    assert "已重新受理" in reopened and "又坏了" in reopened and "已立案" in reopened


def test_my_reports_of_a_logged_in_resident(web: Web) -> None:
    with web.factory() as s:
        user = User(username="jumin", display_name="居民甲",
                    password_hash=hash_password("resident-pass-2026"))
        user.grants.append(RoleGrant(role="resident", area_code=DISTRICT))
        s.add(user)
        s.commit()
    c = web.client
    login(c, "jumin", "resident-pass-2026")
    token, case = _report(web)
    assert case.reporter_user_id is not None
    c.cookies.clear()  # another browser: the login, not the session, finds the report
    login(c, "jumin", "resident-pass-2026")
    mine = c.get("/my/reports?lang=zh_CN").text
    assert f"/track/{token}" in mine and "路灯" in mine


def test_reports_around_hide_personal_data(web: Web) -> None:
    c = web.client
    _report(web)
    data = c.get("/api/around").json()
    assert data["ok"] and len(data["items"]) == 1 and data["next"] is None
    item = data["items"][0]
    assert set(item) == {"id", "status", "status_label", "category", "icon", "street",
                         "community", "reported_on", "lon", "lat", "illustrative"}
    assert item["lon"] == round(POS_A[0], 3) and item["lat"] == round(POS_A[1], 3)
    assert item["reported_on"] == dt.datetime.now(TZ).date().isoformat() or item["reported_on"]
    page = c.get("/around?lang=zh_CN").text
    assert "路灯" in page and "路灯不亮" not in page and "13800000000" not in page
    assert c.get("/api/around?street=370203002").json()["items"] == []
    assert c.get("/api/around?street=370203999").status_code == 404


def test_track_lookup(web: Web) -> None:
    token, _ = _report(web)
    r = web.client.get(f"/track?code={token}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith(f"/track/{token}")
    assert web.client.get("/track?code=%3Cscript%3E").status_code == 422
    assert web.client.get("/track/not-a-real-token").status_code == 404
