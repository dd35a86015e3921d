"""Who sees and touches which case: role × area × action, through the service and the API."""

from __future__ import annotations

import pytest

from citygrowth.auth.permissions import can
from citygrowth.errors import Forbidden, NotFound, Unauthenticated
from citygrowth.governance.intake import ReportInput, submit_report
from citygrowth.governance.lifecycle import TABLE, case_resource, transition
from citygrowth.governance.service import CaseFilter, get_case, list_cases
from tests.governance.conftest import POS_A, POS_B, RUNTIME, Web, World

ROLES = ["admin", "cmd_a", "cmd_b", "urban", "market", "worker_a", "worker_b", "analyst",
         "helper", "resident", "machine"]
# Who may do each action on a case in street A (grid A) dispatched to urban management.
EXPECTED: dict[str, set[str]] = {
    "register": {"admin", "cmd_a"}, "cancel": {"admin", "cmd_a"},
    "dispatch": {"admin", "cmd_a"}, "close": {"admin", "cmd_a"},
    "approve_extension": {"admin", "cmd_a"}, "reject_extension": {"admin", "cmd_a"},
    "approve_postponement": {"admin", "cmd_a"}, "reject_postponement": {"admin", "cmd_a"},
    "supervise": {"admin", "cmd_a"}, "escalate": {"admin", "cmd_a"},
    "rework": {"admin", "cmd_a", "worker_a"}, "verify": {"worker_a"},
    "accept": {"urban"}, "return": {"urban"}, "handle": {"urban"},
    "request_extension": {"urban"}, "request_postponement": {"urban"}, "resume": {"urban"},
    "reopen": {"admin", "cmd_a", "resident"}, "rate": {"resident"},
}


def test_matrix_covers_every_action() -> None:
    assert set(EXPECTED) == set(TABLE)


def test_role_area_action_matrix(sworld: World) -> None:
    case = sworld.report(POS_A)
    case.department_code = "urban"
    other = sworld.report(POS_B, actor=sworld.actors["worker_b"])
    other.department_code = "market"
    for action, t in sorted(TABLE.items()):
        allowed = {r for r in ROLES if can(sworld.actors[r], t.permission, case_resource(case))}
        assert allowed == EXPECTED[action], action
        # street B's case: street A's staff and urban management lose every right to it
        across = {r for r in ROLES if can(sworld.actors[r], t.permission, case_resource(other))}
        assert not across & {"cmd_a", "worker_a", "urban"}, action


def test_street_never_sees_another_streets_cases(sworld: World) -> None:
    s, a = sworld.session, sworld.actors
    ca, cb = sworld.report(POS_A), sworld.report(POS_B, actor=a["worker_b"])
    seen_a = {c.id for c in list_cases(s, a["cmd_a"])[0]}
    assert ca.id in seen_a and cb.id not in seen_a
    assert {c.id for c in list_cases(s, a["admin"])[0]} >= {ca.id, cb.id}
    with pytest.raises(NotFound):
        get_case(s, a["cmd_a"], cb.id)
    with pytest.raises(Forbidden):
        transition(s, a["cmd_a"], cb, "register", runtime=RUNTIME)
    assert list_cases(s, a["cmd_a"], CaseFilter(area_prefix="370203002"))[0] == []


def test_department_sees_only_its_assignments(sworld: World) -> None:
    s, a = sworld.session, sworld.actors
    c1, c2 = sworld.report(POS_A, "E0101"), sworld.report(POS_A, "E0501")
    for c in (c1, c2):
        transition(s, a["cmd_a"], c, "register", runtime=RUNTIME)
        transition(s, a["cmd_a"], c, "dispatch", runtime=RUNTIME)
    assert (c1.department_code, c2.department_code) == ("urban", "market")
    assert [c.id for c in list_cases(s, a["urban"])[0]] == [c1.id]
    assert [c.id for c in list_cases(s, a["market"])[0]] == [c2.id]
    c3 = sworld.report(POS_A)  # not yet dispatched: no department sees it
    with pytest.raises(NotFound):
        get_case(s, a["urban"], c3.id)


def test_grid_worker_reports_only_in_their_grid(sworld: World) -> None:
    with pytest.raises(Forbidden):
        sworld.report(POS_B, actor=sworld.actors["worker_a"])
    with pytest.raises(Forbidden):
        sworld.report(POS_A, actor=sworld.actors["helper"])
    from citygrowth.auth.actor import ANONYMOUS

    with pytest.raises(Unauthenticated):
        submit_report(sworld.session, ANONYMOUS, ReportInput("E0101", *POS_A),
                      runtime=RUNTIME)


def test_api_scoping(web: Web) -> None:
    c = web.client
    ids = {}
    for who, pos in (("worker_a", POS_A), ("worker_b", POS_B)):
        r = c.post("/api/cases", headers=web.h(who),
                   json={"category_code": "E0101", "lat": pos[1], "lon": pos[0]})
        assert r.status_code == 201, r.text
        ids[who] = r.json()["id"]
    seen = {x["id"] for x in c.get("/api/cases", headers=web.h("cmd_a")).json()["items"]}
    assert ids["worker_a"] in seen and ids["worker_b"] not in seen
    assert c.get(f"/api/cases/{ids['worker_b']}", headers=web.h("cmd_a")).status_code == 404
    r = c.post(f"/api/cases/{ids['worker_b']}/actions/register", headers=web.h("cmd_a"), json={})
    assert r.status_code == 404
    r = c.post(f"/api/cases/{ids['worker_a']}/actions/register", headers=web.h("urban"), json={})
    assert r.status_code == 404  # not assigned to urban management yet: invisible
    r = c.post(f"/api/cases/{ids['worker_a']}/actions/register", headers=web.h("worker_a"),
               json={})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = c.post(f"/api/cases/{ids['worker_a']}/actions/register", headers=web.h("cmd_a"), json={})
    assert r.status_code == 200 and r.json()["case"]["status"] == "registered"
    r = c.post(f"/api/cases/{ids['worker_a']}/actions/register", headers=web.h("cmd_a"), json={})
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    assert c.get("/api/cases").status_code == 401
    assert c.get("/command/street/370203002", headers=web.h("cmd_a")).status_code == 403
    assert c.get("/command/street/370203001", headers=web.h("cmd_a")).status_code == 200
