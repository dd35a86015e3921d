"""Intake: position → grid cell, idempotency, duplicates nearby, photos, resident tracking."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from citygrowth.errors import ValidationFailed
from citygrowth.governance.intake import (
    ReportInput,
    haversine_m,
    nearby,
    submit_report,
)
from citygrowth.governance.lifecycle import transition
from citygrowth.governance.service import events_of
from tests.factories import DISTRICT
from tests.governance.conftest import GRID_A, POS_A, RUNTIME, Web, World, image_bytes


def test_position_lands_in_its_grid_cell(world: World) -> None:
    case = world.report((120.305, 36.065), actor=world.actors["cmd_a"])
    assert case.area_code == "370203001001002"
    assert case.status == "reported"
    assert [e.action for e in events_of(world.session, case)] == ["report"]


def test_bad_reports_are_refused_with_problems(world: World) -> None:
    a = world.actors["admin"]
    for inp in (ReportInput("E0101", 10.0, 10.0), ReportInput("E01", *POS_A),
                ReportInput("NOPE", *POS_A), ReportInput("E0101"),
                ReportInput("E0101", *POS_A, idempotency_key="short")):
        with pytest.raises(ValidationFailed) as exc:
            submit_report(world.session, a, inp, runtime=RUNTIME)
        assert exc.value.problems
    by_address = submit_report(world.session, a, ReportInput("E0101", address="某路 3 号"),
                               runtime=RUNTIME).case
    assert by_address.area_code == DISTRICT


def test_idempotency_key_never_makes_two_cases(world: World) -> None:
    a = world.actors["worker_a"]
    inp = ReportInput("E0101", *POS_A, idempotency_key="phone-key-0001")
    one = submit_report(world.session, a, inp, runtime=RUNTIME)
    two = submit_report(world.session, a, inp, runtime=RUNTIME)
    assert one.created and not two.created and one.case.id == two.case.id
    other = submit_report(world.session, world.actors["admin"], inp, runtime=RUNTIME)
    assert other.created and other.case.id != one.case.id  # keys are per reporter


def test_device_retry_window(world: World) -> None:
    a = world.actors["machine"]
    t0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
    inp = ReportInput("E0101", *POS_A, device_id="d-1", description="同一条")
    first = submit_report(world.session, a, inp, at=t0, runtime=RUNTIME).case
    retry = submit_report(world.session, a, inp, at=t0 + dt.timedelta(seconds=30),
                          runtime=RUNTIME)
    assert not retry.created and retry.case.id == first.id
    later = submit_report(world.session, a, inp, at=t0 + dt.timedelta(hours=2),
                          runtime=RUNTIME)
    assert later.created


def test_nearby_duplicates(world: World) -> None:
    c = world.report((120.305, 36.055))
    world.report((120.3052, 36.0551), category="E0502")
    far = world.report((120.309, 36.055))
    found = nearby(world.session, 36.0552, 120.3051, "E0101", 50)
    assert [x.id for x, _ in found] == [c.id]
    assert 0 < found[0][1] < 50
    assert far.id not in [x.id for x, _ in nearby(world.session, 36.055, 120.305, None, 100)]
    transition(world.session, world.actors["cmd_a"], c, "cancel", note="重复", runtime=RUNTIME)
    assert nearby(world.session, 36.0552, 120.3051, "E0101", 50) == []
    assert 1110 < haversine_m(36.05, 120.30, 36.06, 120.30) < 1113


def test_patrol_api_upload_and_idempotent_retry(web: Web) -> None:
    c, h = web.client, web.h("worker_a")
    up = c.post("/api/cases/photos", headers=h,
                files={"photo": ("p.png", image_bytes(), "image/png")})
    assert up.status_code == 201, up.text
    url = up.json()["url"]
    got = c.get(url, headers=h)
    assert got.headers["content-type"] == "image/jpeg" and got.content[:2] == b"\xff\xd8"
    body = {"category_code": "C0101", "lat": POS_A[1], "lon": POS_A[0], "photos": [url],
            "source": "patrol", "description": "井盖缺失"}
    hk = {**h, "Idempotency-Key": "4f1c7d0e-retry-key"}
    r1 = c.post("/api/cases", headers=hk, json=body)
    r2 = c.post("/api/cases", headers=hk, json=body)
    assert (r1.status_code, r2.status_code) == (201, 200)
    assert r1.json()["id"] == r2.json()["id"] and r1.json()["area_code"] == GRID_A
    near = c.get(f"/api/cases/nearby?lat={POS_A[1]}&lon={POS_A[0]}&category=C0101").json()
    assert [x["id"] for x in near["items"]] == [r1.json()["id"]]
    assert c.get("/api/cases/nearby?lat=999&lon=0").status_code == 422


def test_resident_report_track_rate_reopen(web: Web) -> None:
    c = web.client
    page = c.get("/report")
    assert page.status_code == 200 and "category_code" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {"category_code": "E0502", "description": "占用消防通道", "lat": str(POS_A[1]),
            "lon": str(POS_A[0]), "idempotency_key": "form-key-123456", "csrf_token": csrf}
    r = c.post("/report", data=form, follow_redirects=False)
    assert r.status_code == 303
    track = r.headers["location"].split("?")[0]
    assert r.headers["location"].endswith("?sent=1")
    again = c.post("/report", data=form, follow_redirects=False)
    assert again.headers["location"].split("?")[0] == track
    token = track.rsplit("/", 1)[1]
    assert c.get(track).status_code == 200
    rid = c.get(f"/open311/v2/tokens/{token}.json").json()[0]["service_request_id"]
    for who, action, body in (("cmd_a", "register", {}), ("cmd_a", "dispatch", {}),
                              ("urban", "accept", {}), ("urban", "handle", {}),
                              ("worker_a", "verify", {}), ("cmd_a", "close", {})):
        resp = c.post(f"/api/cases/{rid}/actions/{action}", headers=web.h(who), json=body)
        assert resp.status_code == 200, resp.text
    assert "csrf" in c.post(f"{track}/rate", data={"rating": "5"}).text  # forged: refused
    rated = c.post(f"{track}/rate", data={"rating": "5", "csrf_token": csrf})
    assert rated.status_code == 200
    reopened = c.post(f"{track}/reopen", data={"note": "又堵上了", "csrf_token": csrf})
    assert reopened.status_code == 200
    state = c.get(f"/api/cases/{rid}", headers=web.h("admin")).json()
    assert state["case"]["status"] == "registered"
    assert state["case"]["satisfaction"] == 5
    assert [e["action"] for e in state["events"]][-2:] == ["rate", "reopen"]
    assert c.get("/track/not-a-real-token").status_code == 404


def test_components_registry(world: World) -> None:
    from citygrowth.governance.components import list_components, register_component

    a, s = world.actors["admin"], world.session
    c1 = register_component(s, a, "C0101", *POS_A, district_code=DISTRICT)
    c2 = register_component(s, a, "C0101", *POS_A, district_code=DISTRICT)
    c3 = register_component(s, a, "C0105", 120.345, 36.055, district_code=DISTRICT)
    assert (c1.id, c2.id, c3.id) == ("3702030101000001", "3702030101000002",
                                     "3702030105000001")
    assert len(c1.id) == 16 and c1.area_code == GRID_A
    assert c3.area_code == "370203002001001"
    with pytest.raises(ValidationFailed):
        register_component(s, a, "E0101", *POS_A, district_code=DISTRICT)
    seen = [c.id for c in list_components(s, world.actors["cmd_a"])]
    assert seen == [c1.id, c2.id]
