"""The kept case counts (``governance.counts``) agree with a count of the cases after every
step of every lifecycle path, a move to another area, a deletion and (on PostgreSQL) a
truncation; the queues read from them equal the queues counted case by case, for every kind
of reader, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text, update

from citygrowth.auth.actor import Actor, Grant
from citygrowth.governance import counts
from citygrowth.governance.lifecycle import transition
from citygrowth.governance.models import Case
from citygrowth.governance.service import CaseFilter, _filtered, queue_counts
from tests.factories import DISTRICT
from tests.governance.conftest import GRID_B, POS_B, STREET_A, World
from tests.governance.test_lifecycle import PATHS

READERS = ("admin", "cmd_a", "cmd_b", "urban", "market", "worker_a")


def _drift(world: World) -> list[dict[str, object]]:
    world.session.flush()
    return counts.drift(world.session.connection())


def _counted(world: World, who: str, area: str | None, now: dt.datetime) -> dict[str, int]:
    """The queues counted case by case (what the kept counts replace)."""
    actor = world.actors[who]
    base = _filtered(actor, CaseFilter(area_prefix=area), now).subquery()
    out = {s: int(n) for s, n in world.session.execute(
        select(base.c.status, func.count()).group_by(base.c.status))}
    for queue in ("overdue", "warning", "supervised", "pending"):
        q = _filtered(actor, CaseFilter(area_prefix=area, queue=queue), now)
        out[queue] = int(world.session.scalar(
            select(func.count()).select_from(q.subquery())) or 0)
    return out


def _agree(world: World, now: dt.datetime) -> None:
    # nested grants count each case once; a prefix that is no area code sums own rows
    world.actors["nested"] = Actor(user_id=1, username="nested", grants=(
        Grant("district_admin", DISTRICT), Grant("street_commander", STREET_A)))
    for who in (*READERS, "nested"):
        for area in (None, DISTRICT, STREET_A, STREET_A[:7], GRID_B):
            kept = queue_counts(world.session, world.actors[who], area, now)
            counted = _counted(world, who, area, now)
            assert {k: v for k, v in kept.items() if v} == {k: v for k, v in counted.items()
                                                            if v}, (who, area)


def test_counts_follow_every_path(world: World) -> None:
    cases = {}
    for path, steps in PATHS.items():
        case = cases[path] = world.report()
        for action, who, extra in steps:
            transition(world.session, world.actors[who], case, action, runtime=world.runtime,
                       **extra)  # type: ignore[arg-type]
            assert _drift(world) == [], (path, action)
    world.report(POS_B, actor=world.actors["worker_b"])
    now = world.runtime.now()
    for at in (now, now + dt.timedelta(days=3), now + dt.timedelta(days=30)):
        _agree(world, at)  # overdue and due soon move with the clock
    assert queue_counts(world.session, world.actors["admin"], None, now)["reported"] >= 1
    assert queue_counts(world.session, world.actors["admin"], None, now)["supervised"] == 1

    # a move to another street and a deletion, written as plain SQL
    moved = cases["rework"].id
    world.session.execute(update(Case).where(Case.id == moved).values(area_code=GRID_B))
    assert _drift(world) == []
    world.session.execute(text("DELETE FROM cases WHERE id = :i"), {"i": cases["cancel"].id})
    assert _drift(world) == []
    _agree(world, now)

    # a recount gives what the triggers kept
    kept = "SELECT area_code, own, bucket, n FROM case_counts WHERE n <> 0 ORDER BY 1, 2, 3"
    before = world.session.execute(text(kept)).all()
    counts.rebuild(world.session.connection())
    after = world.session.execute(text(kept)).all()
    assert before == after and after
    if world.session.get_bind().dialect.name == "postgresql":
        world.session.execute(text("TRUNCATE cases CASCADE"))
        assert world.session.scalar(text("SELECT count(*) FROM case_counts")) == 0


def test_drift_is_reported_and_rebuilt(world: World) -> None:
    world.report()
    conn = world.session.connection()
    conn.execute(text("UPDATE case_counts SET n = n + 5"))
    found = counts.drift(conn)
    assert found and found[0]["kept"] == found[0]["counted"] + 5
    counts.rebuild(conn)
    assert counts.drift(conn) == []
