"""The open-case queues read the partial index ``ix_cases_open`` on both stores, and the
queries of running cases state the open statuses once on PostgreSQL (its planner would
count a repeated condition twice and misjudge the queue's size)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor, Grant
from citygrowth.governance.models import OPEN_STATUSES
from citygrowth.governance.service import CASE_ORDER, CaseFilter, _filtered
from tests.factories import DISTRICT

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
ADMIN = Actor(user_id=1, username="admin", grants=(Grant("district_admin", DISTRICT),))


def _sql(session: Session, queue: str) -> str:
    q = _filtered(ADMIN, CaseFilter(queue=queue), NOW).order_by(
        *(c.desc() for c in CASE_ORDER)).limit(51)
    return str(q.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))


def _plan(session: Session, sql: str) -> str:
    # a small table is cheapest read by another plan: ask whether the index can serve the
    # query at all (SQLite's INDEXED BY fails with "no query solution" where it cannot)
    if session.get_bind().dialect.name == "sqlite":
        assert sql.count("FROM cases ") == 1
        sql = sql.replace("FROM cases ", "FROM cases INDEXED BY ix_cases_open ")
        return " ".join(str(r[-1]) for r in session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    session.execute(text("SET LOCAL enable_seqscan = off"))
    return " ".join(str(r[0]) for r in session.execute(text("EXPLAIN " + sql)))


def test_queues_read_the_open_index(session: Session) -> None:
    for queue in ("open", "overdue", "warning", "supervised"):
        plan = _plan(session, _sql(session, queue))
        assert "ix_cases_open" in plan, (queue, plan)


def test_open_statuses_stated_once(session: Session) -> None:
    sqlite = session.get_bind().dialect.name == "sqlite"
    statuses = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
    for queue in ("overdue", "warning"):
        sql = _sql(session, queue)
        # SQLite matches a partial index only to a query repeating its IN term
        assert (statuses in sql) is sqlite, (queue, sql)
        assert sql.count("cases.status IN (") == (2 if sqlite else 1), sql
