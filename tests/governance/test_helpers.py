"""Helpers (党员帮办): registration with community and skills, tasks from a case or on their
own, taking and completing within the community, buttons only where allowed, hours reported
per helper and community (page, CSV, JSON, CLI) and written as Social-cohesion indicators."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from citygrowth.auth.actor import Actor, Grant
from citygrowth.auth.models import RoleGrant, User
from citygrowth.errors import Forbidden, NotFound, ValidationFailed
from citygrowth.governance import helpers
from citygrowth.governance.demo import ensure_demo_helper
from citygrowth.governance.evaluation import month_bounds
from citygrowth.governance.models import Helper, HelpTask
from tests.factories import STREET_A
from tests.governance.conftest import GRID_A, GRID_B, World

GRID_A2 = STREET_A + "001002"  # same community as GRID_A
GRID_A3 = STREET_A + "002001"  # another community of street A


def login(world: World, name: str, grid: str) -> Actor:
    user = User(username=name, display_name=name)
    user.grants.append(RoleGrant(role="helper", area_code=grid))
    world.session.add(user)
    world.session.flush()
    return Actor(user_id=user.id, username=name, grants=(Grant("helper", grid),))


def test_helpers_take_the_tasks_of_their_community_only(sworld: World) -> None:
    s, a = sworld.session, sworld.actors
    me = login(sworld, "wang", GRID_A)
    h = helpers.register_helper(s, a["cmd_a"], GRID_A, "party_member", "王芳", me.user_id,
                                ["elderly_care", "paperwork"])
    assert h.skills == ["elderly_care", "paperwork"] and h.registered_by == "cmd_a"
    near = helpers.create_task(s, a["cmd_a"], GRID_A2, "陪老人看病", skill="elderly_care")
    far = helpers.create_task(s, a["cmd_a"], GRID_A3, "整理车棚")
    other_street = helpers.create_task(s, a["worker_b"], GRID_B, "代办证件")
    seen = {t.id for t in helpers.list_tasks(s, me)}
    assert near.id in seen and far.id not in seen and other_street.id not in seen
    assert helpers.can_take(h, near) and not helpers.can_take(h, far)
    with pytest.raises(NotFound):  # outside what the helper sees
        helpers.take_task(s, me, far.id)
    helpers.take_task(s, me, near.id)
    assert near.status == "taken" and near.helper_id == h.id
    assert helpers.can_finish(h, near) and not helpers.can_take(h, near)
    done = helpers.finish_task(s, me, near.id, 1.5, "陪同就诊，已送回家")
    assert done.status == "done" and done.note == "陪同就诊，已送回家"
    # a second login of the same community sees it, cannot finish it
    other = login(sworld, "li", GRID_A2)
    h2 = helpers.register_helper(s, a["cmd_a"], GRID_A2, "volunteer", "李强", other.user_id)
    assert not helpers.can_finish(h2, near)


def test_registration_checks_each_field(sworld: World) -> None:
    s, a = sworld.session, sworld.actors
    nobody = User(username="plain", display_name="plain")
    s.add(nobody)
    s.flush()
    with pytest.raises(ValidationFailed) as err:
        helpers.register_helper(s, a["cmd_a"], STREET_A, "mayor", "", nobody.id, ["magic"])
    fields = {p.field for p in err.value.problems}
    assert fields == {"area_code", "kind", "label", "skills", "username"}
    with pytest.raises(Forbidden):  # another street's grid cell
        helpers.register_helper(s, a["cmd_a"], GRID_B, "volunteer", "x")
    with pytest.raises(Forbidden):  # helpers do not register helpers
        helpers.register_helper(s, a["helper"], GRID_A, "volunteer", "x")
    with pytest.raises(ValidationFailed) as err:
        helpers.find_user(s, "ghost")
    assert err.value.problems[0].field == "username"


def test_a_task_from_a_case_lands_in_its_grid_cell(sworld: World) -> None:
    s, a = sworld.session, sworld.actors
    case = sworld.report()
    t = helpers.create_task(s, a["cmd_a"], "", "帮助清理", case_id=case.id)
    assert t.area_code == case.area_code and t.case_id == case.id and t.created_by == "cmd_a"
    with pytest.raises(NotFound):  # another street's case
        helpers.create_task(s, a["cmd_b"], "", "x", case_id=case.id)
    with pytest.raises(ValidationFailed) as err:
        helpers.create_task(s, a["cmd_a"], GRID_A, "", skill="flying")
    assert {p.field for p in err.value.problems} == {"title", "skill"}


def test_hours_report_per_helper_and_community(sworld: World) -> None:
    s, a = sworld.session, sworld.actors
    me = login(sworld, "wang", GRID_A)
    helpers.register_helper(s, a["cmd_a"], GRID_A, "volunteer", "王芳", me.user_id)
    for hours in (2.0, 1.5):
        t = helpers.create_task(s, a["cmd_a"], GRID_A2, "任务")
        helpers.take_task(s, me, t.id)
        helpers.finish_task(s, me, t.id, hours)
    lo, hi = (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
    per_helper, per_comm = helpers.hours_report(s, a["cmd_a"], lo, hi)
    assert [(r.name, r.tasks, r.hours) for r in per_helper] == [("王芳", 2, 3.5)]
    assert [(r.code, r.tasks, r.hours, r.helpers) for r in per_comm] == [
        (STREET_A + "001", 2, 3.5, 1)]
    assert per_comm[0].name == "社区1-1"
    assert helpers.hours_report(s, a["cmd_b"], lo, hi) == ([], [])  # another street's


def test_the_demo_helper_is_registered_with_open_tasks(sworld: World) -> None:
    s = sworld.session
    login(sworld, "helper", GRID_A)
    now = dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC)
    assert ensure_demo_helper(s, now) == 3
    assert ensure_demo_helper(s, now) == 0  # once
    h = s.scalar(select(Helper).where(Helper.label != ""))
    assert h is not None and h.area_code == GRID_A and h.active
    assert len(list(s.scalars(select(HelpTask).where(HelpTask.status == "open")))) == 3


# --- in the browser's place: the pages and their twins ---------------------------------------

def _helper_user(web: Any) -> None:
    from tests.governance.conftest import GRID_A as grid

    with web.factory() as s:
        user = s.scalar(select(User).where(User.username == "helper"))
        s.add(Helper(user_id=user.id, kind="volunteer", label="王芳", area_code=grid,
                     active=True, illustrative=False, skills=["repairs"], registered_by="t"))
        s.commit()


def test_pages_offer_only_the_allowed_buttons(web: Any) -> None:
    c = web.client
    r = c.post("/api/help/tasks", headers=web.h("worker_a"),
               json={"area_code": GRID_A, "title": "修理门锁", "skill": "repairs"})
    assert r.status_code == 201, r.text
    tid = r.json()["task"]["id"]
    page = c.get("/help", headers=web.h("helper")).text
    assert "修理门锁" in page and f'data-testid="take-{tid}"' not in page  # not registered
    assert 'data-testid="not-registered"' in page
    assert c.post(f"/api/help/tasks/{tid}/take", headers=web.h("helper")).status_code == 403
    _helper_user(web)
    page = c.get("/help", headers=web.h("helper")).text
    assert f'data-testid="take-{tid}"' in page and "✓" in page  # the skill matches
    staff = c.get("/help", headers=web.h("worker_a")).text
    assert f'data-testid="take-{tid}"' not in staff and 'data-testid="new-task"' in staff
    assert c.post(f"/api/help/tasks/{tid}/take", headers=web.h("helper")).status_code == 200
    page = c.get("/help", headers=web.h("helper")).text
    assert f'data-testid="done-{tid}"' in page and f'data-testid="take-{tid}"' not in page
    r = c.post(f"/api/help/tasks/{tid}/done", headers=web.h("helper"),
               json={"hours": 2, "note": "换了锁芯"})
    assert r.json()["task"]["status"] == "done"
    rep = c.get("/api/help/report", headers=web.h("cmd_a")).json()
    assert rep["total_hours"] == 2 and rep["helpers"][0]["name"] == "王芳"
    csv_text = c.get("/help/report.csv?by=community", headers=web.h("cmd_a")).text
    header = csv_text.lstrip("\ufeff").splitlines()[0]
    assert header == "代码,名称,社区,任务数,时长（小时）,帮办人数"
    assert c.get("/help/report", headers=web.h("helper")).status_code == 403
    assert "王芳" in c.get("/help/report", headers=web.h("cmd_a")).text


def test_register_page_names_each_bad_field(web: Any) -> None:
    c = web.client
    r = c.post("/help/helpers", headers=web.h("cmd_a"),
               data={"username": "ghost", "area_code": GRID_A, "kind": "volunteer",
                     "label": "x"})
    assert r.status_code == 422 and 'data-testid="error-username"' in r.text
    r = c.post("/help/helpers", headers=web.h("cmd_a"), follow_redirects=False,
               data={"username": "helper", "area_code": GRID_A, "kind": "party_member",
                     "label": "王芳", "skills": ["elderly_care", "legal"]})
    assert r.status_code == 303
    listed = c.get("/help/helpers", headers=web.h("cmd_a")).text
    assert "王芳" in listed and "法律" in listed


def test_cli_registers_and_reports(web: Any, settings: Any) -> None:
    from citygrowth.cli import main

    env = {"CITYGROWTH_DATABASE_URL": settings.resolved_database_url,
           "CITYGROWTH_DATA_DIR": str(settings.data_dir)}
    out = CliRunner().invoke(main, ["--lang", "en", "cases", "helpers", "register", "helper",
                                    "--grid", GRID_A, "--name", "王芳", "--skill", "repairs"],
                             env=env)
    assert out.exit_code == 0, out.output
    assert "registered" in out.output
    listed = CliRunner().invoke(main, ["cases", "helpers", "list"], env=env)
    assert "王芳" in listed.output and "repairs" in listed.output
    bad = CliRunner().invoke(main, ["--lang", "en", "cases", "helpers", "register", "ghost",
                                    "--grid", GRID_A, "--name", "x"], env=env)
    assert bad.exit_code != 0 and "USERNAME" in bad.output
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    rep = CliRunner().invoke(main, ["cases", "helpers", "report", "--from", month, "--to",
                                    month], env=env)
    assert rep.exit_code == 0 and rep.output.startswith("code,name,community,tasks,hours")
    assert month_bounds([month], ZoneInfo("Asia/Shanghai"))[0] < dt.datetime.now(dt.UTC)
