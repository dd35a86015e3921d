"""The transition table: every legal step walks, every illegal one is refused, history is
append-only and the SLA clock comes from the events."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from citygrowth.errors import Conflict, Forbidden, ValidationFailed
from citygrowth.governance.lifecycle import STATUSES, TABLE, transition
from citygrowth.governance.models import Case, CaseEvent
from citygrowth.governance.service import events_of
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.governance.conftest import RUNTIME, World

# (action, who, extra inputs) along every path; each starts from a fresh case.
NOTE = {"note": "原因"}
PATHS: dict[str, list[tuple[str, str, dict[str, object]]]] = {
    "closed loop": [("register", "cmd_a", {}), ("dispatch", "cmd_a", {}),
                    ("accept", "urban", {}), ("handle", "urban", NOTE),
                    ("verify", "worker_a", {}), ("close", "cmd_a", {}),
                    ("rate", "resident", {"rating": 4}), ("reopen", "resident", NOTE)],
    "cancel": [("cancel", "cmd_a", NOTE)],
    "rework": [("register", "cmd_a", {}), ("dispatch", "cmd_a", {}), ("accept", "urban", {}),
               ("handle", "urban", {}), ("rework", "worker_a", NOTE), ("accept", "urban", {}),
               ("handle", "urban", {}), ("verify", "worker_a", {}), ("rework", "cmd_a", NOTE)],
    "return": [("register", "cmd_a", {}), ("dispatch", "cmd_a", {}), ("return", "urban", NOTE),
               ("dispatch", "cmd_a", {"department_code": "market"}), ("accept", "market", {}),
               ("return", "market", NOTE)],
    "extension": [("register", "cmd_a", {}), ("dispatch", "cmd_a", {}),
                  ("request_extension", "urban", {"note": "n", "hours": 8}),
                  ("reject_extension", "cmd_a", NOTE), ("accept", "urban", {}),
                  ("request_extension", "urban", {"note": "n", "hours": 8}),
                  ("approve_extension", "cmd_a", {})],
    "postponement": [("register", "cmd_a", {}), ("dispatch", "cmd_a", {}),
                     ("request_postponement", "urban", NOTE),
                     ("reject_postponement", "cmd_a", NOTE),
                     ("request_postponement", "urban", NOTE),
                     ("approve_postponement", "cmd_a", {}), ("resume", "urban", {}),
                     ("supervise", "admin", NOTE), ("escalate", "cmd_a", {})],
}


def test_every_action_is_walked() -> None:
    walked = {a for steps in PATHS.values() for a, _, _ in steps}
    assert walked == set(TABLE)


@pytest.mark.parametrize("path", sorted(PATHS))
def test_walk_path(world: World, path: str) -> None:
    runtime = build_runtime(Settings(env="test"), entry_points=False)  # a bus of its own
    bus = runtime.bus
    case = world.report()
    for action, who, extra in PATHS[path]:
        before = case.status
        transition(world.session, world.actors[who], case, action, runtime=runtime,
                   **extra)  # type: ignore[arg-type]
        t = TABLE[action]
        assert case.status == (t.target or before), action
    events = events_of(world.session, case)
    assert [e.action for e in events] == ["report", *[a for a, _, _ in PATHS[path]]]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    for prev, e in zip(events, events[1:], strict=False):
        assert e.from_status == prev.to_status
    # announced when committed (a reader woken by the event then finds the change)
    assert bus.recent == []
    world.session.commit()
    assert [ev.payload["action"] for ev in bus.recent] == [a for a, _, _ in PATHS[path]]


def _case_in(world: World, status: str, pending: str | None = None) -> Case:
    case = world.report()
    case.status = status  # a fixture shortcut: put a fresh case straight into a state
    case.pending = pending
    case.department_code = "urban" if status not in ("reported", "registered") else None
    world.session.flush()
    return case


def test_every_illegal_transition_is_refused(sworld: World) -> None:
    refused = 0
    for status in STATUSES:
        case = _case_in(sworld, status)
        for action, t in TABLE.items():
            if status in t.sources:
                continue
            with pytest.raises(Conflict) as exc:
                transition(sworld.session, sworld.system, case, action, note="x", hours=2,
                           rating=3, runtime=RUNTIME)
            assert exc.value.code == "illegal_transition", (action, status)
            assert case.status == status
            refused += 1
        assert len(events_of(sworld.session, case)) == 1  # only the report
    assert refused == sum(len(STATUSES) - len(t.sources) for t in TABLE.values())


@pytest.mark.parametrize("action", ["approve_extension", "reject_extension",
                                    "approve_postponement", "reject_postponement"])
def test_approval_without_request_is_refused(sworld: World, action: str) -> None:
    case = _case_in(sworld, "handling")
    with pytest.raises(Conflict):
        transition(sworld.session, sworld.system, case, action, note="x", runtime=RUNTIME)


def test_pending_request_blocks_handling(sworld: World) -> None:
    case = _case_in(sworld, "handling", pending="extension")
    with pytest.raises(Conflict) as exc:
        transition(sworld.session, sworld.system, case, "handle", runtime=RUNTIME)
    assert exc.value.code == "pending_request"


def test_note_and_inputs_are_required(sworld: World) -> None:
    case = sworld.report()
    with pytest.raises(ValidationFailed):
        transition(sworld.session, sworld.actors["cmd_a"], case, "cancel", note="  ",
                   runtime=RUNTIME)
    c2 = _case_in(sworld, "closed")
    with pytest.raises(ValidationFailed):
        transition(sworld.session, sworld.system, c2, "rate", rating=9, runtime=RUNTIME)
    c3 = _case_in(sworld, "handling")
    with pytest.raises(ValidationFailed):
        transition(sworld.session, sworld.system, c3, "request_extension", note="n", hours=0,
                   runtime=RUNTIME)
    with pytest.raises(ValidationFailed):
        transition(sworld.session, sworld.system, c3, "bogus", runtime=RUNTIME)


def test_wrong_role_is_forbidden(sworld: World) -> None:
    case = sworld.report()
    with pytest.raises(Forbidden):  # a department officer cannot register
        transition(sworld.session, sworld.actors["urban"], case, "register", runtime=RUNTIME)
    transition(sworld.session, sworld.actors["cmd_a"], case, "register", runtime=RUNTIME)
    with pytest.raises(Forbidden):  # street B's commander cannot touch street A's case
        transition(sworld.session, sworld.actors["cmd_b"], case, "dispatch", runtime=RUNTIME)
    transition(sworld.session, sworld.actors["cmd_a"], case, "dispatch", runtime=RUNTIME)
    assert case.department_code == "urban"  # E0101 exposed garbage → urban management
    with pytest.raises(Forbidden):  # market supervision was not assigned this case
        transition(sworld.session, sworld.actors["market"], case, "accept", runtime=RUNTIME)


def test_history_is_append_only_and_clock_from_events(sworld: World) -> None:
    s = sworld.session
    case = sworld.report()
    t0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 Beijing
    transition(s, sworld.actors["cmd_a"], case, "register", at=t0, runtime=RUNTIME)
    transition(s, sworld.actors["cmd_a"], case, "dispatch", at=t0, runtime=RUNTIME)
    # E0101 has a 4 working-hour limit: 09:00 + 3h → 12:00, then 1h → 14:30
    assert case.due_at == dt.datetime(2026, 3, 2, 6, 30, tzinfo=dt.UTC)
    transition(s, sworld.actors["urban"], case, "request_extension", note="n", hours=2,
               at=t0 + dt.timedelta(minutes=5), runtime=RUNTIME)
    transition(s, sworld.actors["cmd_a"], case, "approve_extension",
               at=t0 + dt.timedelta(minutes=10), runtime=RUNTIME)
    assert case.due_at == dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)  # 16:30
    first = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
    snapshot = [(e.id, e.action, e.at, e.to_status) for e in first]
    transition(s, sworld.actors["urban"], case, "accept", at=t0 + dt.timedelta(hours=1),
               runtime=RUNTIME)
    again = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                      .order_by(CaseEvent.seq)).all()
    assert [(e.id, e.action, e.at, e.to_status) for e in again][:len(snapshot)] == snapshot
