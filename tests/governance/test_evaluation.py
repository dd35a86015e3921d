"""Evaluation per department, street, grid and month; helpers; the demo history; the store."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from citygrowth.errors import Conflict, Forbidden, ValidationFailed
from citygrowth.governance import helpers
from citygrowth.governance.demo import generate, load_demo
from citygrowth.governance.evaluation import INDICATORS, evaluate, helper_frame, observations
from citygrowth.governance.lifecycle import STATUSES, transition
from citygrowth.governance.service import escalate_overdue
from tests.governance.conftest import GRID_A, POS_A, POS_B, RUNTIME, World

T0 = dt.datetime(2026, 10, 12, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 Beijing


def _loop(w: World, pos: tuple[float, float], handle_after_h: float, rework: bool = False,
          rating: int | None = None) -> None:
    a = w.actors
    cmd = a["cmd_a"] if pos == POS_A else a["cmd_b"]
    worker = a["worker_a"] if pos == POS_A else a["worker_b"]
    case = w.report(pos, actor=worker)
    case.reported_at = T0
    s = w.session
    transition(s, cmd, case, "register", at=T0, runtime=RUNTIME)
    transition(s, cmd, case, "dispatch", at=T0, runtime=RUNTIME)  # E0101: 4 working hours → 14:30
    transition(s, a["urban"], case, "accept", at=T0 + dt.timedelta(minutes=10), runtime=RUNTIME)
    done = T0 + dt.timedelta(hours=handle_after_h)
    transition(s, a["urban"], case, "handle", at=done, runtime=RUNTIME)
    if rework:
        transition(s, worker, case, "rework", note="没修好", at=done + dt.timedelta(minutes=5),
                   runtime=RUNTIME)
        transition(s, a["urban"], case, "accept", at=done + dt.timedelta(minutes=6),
                   runtime=RUNTIME)
        transition(s, a["urban"], case, "handle", at=done + dt.timedelta(minutes=30),
                   runtime=RUNTIME)
        done += dt.timedelta(minutes=30)
    transition(s, worker, case, "verify", at=done + dt.timedelta(minutes=10), runtime=RUNTIME)
    transition(s, cmd, case, "close", at=done + dt.timedelta(minutes=20), runtime=RUNTIME)
    if rating:
        transition(s, w.system, case, "rate", rating=rating, at=done + dt.timedelta(hours=1),
                   runtime=RUNTIME)


def test_evaluation_rates(world: World) -> None:
    _loop(world, POS_A, 2, rating=5)  # on time
    _loop(world, POS_A, 26, rework=True, rating=2)  # late (next day), reworked
    _loop(world, POS_B, 3)  # on time, street B
    open_case = world.report(POS_A)
    open_case.reported_at = T0
    df = evaluate(world.session, world.system, ["2026-10"], RUNTIME.calendar)
    row = df[(df.level == "street") & (df.code == "370203001")].iloc[0]
    assert (row.reported, row.registered, row.closed, row.due, row.closed_ontime) == \
        (3, 2, 2, 2, 1)
    assert row.ontime_rate == 0.5 and row.rework_rate == 0.5 and row.closure_rate == 1.0
    assert row.satisfaction == 3.5
    assert row.handling_hours == pytest.approx((1 + 50 / 60 + 8.5 + 20 / 60 + 1 / 60 * 24) / 2,
                                               abs=0.6)
    dist = df[df.level == "district"].iloc[0]
    assert (dist.due, dist.closed_ontime) == (3, 2)
    dept = df[(df.level == "department") & (df.code == "urban")].iloc[0]
    assert dept.closed == 3
    grid = df[(df.level == "grid") & (df.code == GRID_A)].iloc[0]
    assert grid.reported == 3
    obs = observations(df)
    assert set(obs.indicator) == set(INDICATORS.values())
    assert set(obs.period) == {"2026-10"}
    v = obs[(obs.indicator == "GOV_CASE_ONTIME_RATE") & (obs.area_code == "370203001")]
    assert v.value.tolist() == [50.0]  # the catalog's unit is %
    s = obs[(obs.indicator == "GOV_CASE_SATISFACTION") & (obs.area_code == "370203001")]
    assert s.value.tolist() == [row.satisfied_rate * 100]
    assert 0 <= row.satisfied_rate <= 1
    # a street commander sees its own rows only
    own = evaluate(world.session, world.actors["cmd_a"], ["2026-10"], RUNTIME.calendar)
    assert not own[own.level != "department"].code.str.startswith("370203002").any()
    assert "370203" not in own.code.tolist()
    with pytest.raises(ValidationFailed):
        evaluate(world.session, world.system, ["2026-13"], RUNTIME.calendar)
    with pytest.raises(Forbidden):
        evaluate(world.session, world.actors["helper"], ["2026-10"], RUNTIME.calendar)


def test_escalation_of_overdue_cases(world: World) -> None:
    s, a = world.session, world.actors
    case = world.report()
    transition(s, a["cmd_a"], case, "register", at=T0, runtime=RUNTIME)
    transition(s, a["cmd_a"], case, "dispatch", at=T0, runtime=RUNTIME)
    assert escalate_overdue(s, world.system, RUNTIME, now=T0 + dt.timedelta(hours=3)) == 0
    assert escalate_overdue(s, world.system, RUNTIME, now=T0 + dt.timedelta(hours=7)) == 1
    assert case.escalation_level == 1
    assert escalate_overdue(s, world.system, RUNTIME, now=T0 + dt.timedelta(hours=7)) == 0
    assert escalate_overdue(s, world.system, RUNTIME, now=T0 + dt.timedelta(days=3)) == 1
    assert case.escalation_level == 3


def test_helpers_tasks_and_hours(world: World) -> None:
    from citygrowth.auth.actor import Actor
    from citygrowth.auth.models import RoleGrant, User

    s, a = world.session, world.actors
    with pytest.raises(ValidationFailed):
        helpers.register_helper(s, a["worker_a"], GRID_A, "mayor", "x")
    task = helpers.create_task(s, a["worker_a"], GRID_A, "帮老人取药")
    user = User(username="helper", display_name="helper")
    user.grants.append(RoleGrant(role="helper", area_code=GRID_A))
    s.add(user)
    s.flush()
    me = Actor(user_id=user.id, username="helper", grants=a["helper"].grants)
    with pytest.raises(Forbidden):  # not registered as a helper
        helpers.take_task(s, me, task.id)
    helpers.register_helper(s, a["worker_a"], GRID_A, "volunteer", "志愿者", user_id=user.id)
    helpers.take_task(s, me, task.id)
    with pytest.raises(Conflict):
        helpers.take_task(s, me, task.id)
    with pytest.raises(ValidationFailed):
        helpers.finish_task(s, me, task.id, 30)
    helpers.finish_task(s, me, task.id, 2.5, "送到家")
    assert [t.id for t in helpers.list_tasks(s, me, "done")] == [task.id]
    assert task.done_at is not None
    month = task.done_at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m")
    frame = helper_frame(s, [month], RUNTIME.tz)
    assert frame.to_dict("records") == [
        {"indicator": "SOC_HELPER_HOURS", "area_code": GRID_A, "period": month, "value": 2.5},
        {"indicator": "SOC_HELP_TASKS_DONE", "area_code": GRID_A, "period": month, "value": 1.0},
    ]


def test_demo_history_is_deterministic_and_loads_once(sworld: World) -> None:
    now = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)
    rows1, ev1 = generate(sworld.session, RUNTIME, now, months=4)
    rows2, _ = generate(sworld.session, RUNTIME, now, months=4)
    assert [r["token"] for r in rows1] == [r["token"] for r in rows2]
    assert len(rows1) > 20
    statuses = {r["status"] for r in rows1}
    assert "closed" in statuses and statuses <= set(STATUSES)
    assert all(r["illustrative"] for r in rows1)
    for evs in ev1:
        assert [e["seq"] for e in evs] == list(range(1, len(evs) + 1))
        assert evs[0]["action"] == "report"
    out = load_demo(sworld.session, sworld.system, RUNTIME, now, months=4, evaluation=False)
    assert out["cases"] == len(rows1)
    again = load_demo(sworld.session, sworld.system, RUNTIME, now, months=4, evaluation=False)
    assert again["cases"] == 0
    df = evaluate(sworld.session, sworld.system, ["2026-09", "2026-10"], RUNTIME.calendar)
    dist = df[df.level == "district"]
    assert (dist.reported > 0).all() and dist.ontime_rate.between(0, 1).all()
    assert isinstance(df, pd.DataFrame)
