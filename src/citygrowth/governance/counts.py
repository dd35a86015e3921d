"""How many cases each status and queue holds, without counting the cases.

The command centers, ``/api/cases/queues`` and the area profile show, for the reader's areas,
how many cases are in each status and in the queues. Counted from ``cases`` on each request
this costs a scan of every case in scope: seconds at ten million cases. Instead two small
tables hold the counts per area (and per assigned department, for department officers):
``case_counts`` and ``case_department_counts``, one row per area and *bucket* — a status,
``+supervised`` (open and supervised) or ``+pending`` (an extension or postponement awaiting
approval).

Database triggers keep them, in the same transaction as every insert, update and delete of a
case, whoever writes it (the lifecycle, intake, an import, or SQL typed by hand), on SQLite
and PostgreSQL. A reader sums at most a few rows per area in scope. The two queues that move
with the clock rather than with a write — overdue and due soon — are counted live from the
index ``ix_cases_queue`` (status, area, deadlines), which holds only what they need.

:func:`rebuild` recounts from ``cases`` (after a bulk load with the triggers off), and
:func:`drift` compares both (``citygrowth cases recount --check``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from citygrowth.areas.codes import within, within_any
from citygrowth.governance.models import OPEN_SQL, CaseCount, CaseDepartmentCount

SUPERVISED = "+supervised"
PENDING = "+pending"
TABLES = ("case_counts", "case_department_counts")
WATCHED = "status, area_code, department_code, supervised, pending"


def _buckets(row: str) -> list[tuple[str, str]]:
    """(bucket, condition) of a case ``row`` (``OLD`` or ``NEW`` in a trigger)."""
    return [(f"{row}.status", "1 = 1"),
            (f"'{SUPERVISED}'", f"{row}.supervised AND {row}.status IN ({OPEN_SQL})"),
            (f"'{PENDING}'", f"{row}.pending IS NOT NULL")]


def _decrement(row: str = "OLD") -> list[str]:
    out = []
    for bucket, cond in _buckets(row):
        out.append(f"UPDATE case_counts SET n = n - 1 WHERE area_code = {row}.area_code "
                   f"AND bucket = {bucket} AND {cond};")
        out.append(f"UPDATE case_department_counts SET n = n - 1 WHERE department_code = "
                   f"{row}.department_code AND area_code = {row}.area_code AND bucket = "
                   f"{bucket} AND {cond};")
    return out


def _increment(row: str = "NEW") -> list[str]:
    out = []
    for bucket, cond in _buckets(row):
        out.append(f"INSERT INTO case_counts (area_code, bucket, n) SELECT {row}.area_code, "
                   f"{bucket}, 1 WHERE {cond} ON CONFLICT (area_code, bucket) DO UPDATE SET "
                   "n = case_counts.n + 1;")
        out.append(f"INSERT INTO case_department_counts (department_code, area_code, bucket, "
                   f"n) SELECT {row}.department_code, {row}.area_code, {bucket}, 1 WHERE "
                   f"{row}.department_code IS NOT NULL AND {cond} ON CONFLICT "
                   "(department_code, area_code, bucket) DO UPDATE SET "
                   "n = case_department_counts.n + 1;")
    return out


def trigger_ddl(dialect: str) -> list[str]:
    """The statements that install the triggers on ``dialect`` (sqlite or postgresql)."""
    dec, inc = " ".join(_decrement()), " ".join(_increment())
    if dialect == "sqlite":
        return [f"CREATE TRIGGER case_counts_insert AFTER INSERT ON cases BEGIN {inc} END",
                f"CREATE TRIGGER case_counts_delete AFTER DELETE ON cases BEGIN {dec} END",
                f"CREATE TRIGGER case_counts_update AFTER UPDATE OF {WATCHED} ON cases "
                f"BEGIN {dec} {inc} END"]
    return [
        "CREATE OR REPLACE FUNCTION case_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN IF TG_OP <> 'INSERT' THEN {dec} END IF; "
        f"IF TG_OP <> 'DELETE' THEN {inc} END IF; RETURN NULL; END $$",
        "CREATE OR REPLACE FUNCTION case_counts_clear() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN DELETE FROM case_counts; DELETE FROM case_department_counts; RETURN NULL; "
        "END $$",
        f"CREATE TRIGGER case_counts_keep AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} "
        "ON cases FOR EACH ROW EXECUTE FUNCTION case_counts_keep()",
        "CREATE TRIGGER case_counts_clear AFTER TRUNCATE ON cases FOR EACH STATEMENT "
        "EXECUTE FUNCTION case_counts_clear()",
    ]


def drop_ddl(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS case_counts_{w}" for w in ("insert", "delete",
                                                                     "update")]
    return ["DROP TRIGGER IF EXISTS case_counts_keep ON cases",
            "DROP TRIGGER IF EXISTS case_counts_clear ON cases",
            "DROP FUNCTION IF EXISTS case_counts_keep()",
            "DROP FUNCTION IF EXISTS case_counts_clear()"]


def install(conn: Connection) -> None:
    """(Re)install the triggers on ``conn``'s database."""
    for stmt in drop_ddl(conn.dialect.name) + trigger_ddl(conn.dialect.name):
        conn.execute(text(stmt))


def _live(group: str) -> str:
    """The counts from ``cases``, grouped by ``group`` (and the bucket)."""
    return (f"SELECT {group}, status AS bucket, count(*) AS n FROM cases {{where}} GROUP BY "
            f"{group}, status UNION ALL SELECT {group}, '{SUPERVISED}', count(*) FROM cases "
            f"WHERE supervised AND status IN ({OPEN_SQL}) {{and_}} GROUP BY {group} "
            f"UNION ALL SELECT {group}, '{PENDING}', count(*) FROM cases WHERE pending IS NOT "
            f"NULL {{and_}} GROUP BY {group}")


def _live_sql(dept: bool) -> str:
    if dept:
        return _live("department_code, area_code").format(
            where="WHERE department_code IS NOT NULL", and_="AND department_code IS NOT NULL")
    return _live("area_code").format(where="", and_="")


def rebuild(conn: Connection) -> int:
    """Recount both tables from ``cases`` (in ``conn``'s transaction); rows written."""
    n = 0
    for table, dept in zip(TABLES, (False, True), strict=True):
        cols = "department_code, area_code, bucket, n" if dept else "area_code, bucket, n"
        conn.execute(text(f"DELETE FROM {table}"))
        n += conn.execute(text(f"INSERT INTO {table} ({cols}) {_live_sql(dept)}")).rowcount
    return n


def drift(conn: Connection) -> list[dict[str, Any]]:
    """Rows where a kept count differs from a count of ``cases`` (empty when all agree)."""
    out: list[dict[str, Any]] = []
    for table, dept in zip(TABLES, (False, True), strict=True):
        keys = ("department_code", "area_code", "bucket") if dept else ("area_code", "bucket")
        kept = {tuple(r[:-1]): int(r[-1]) for r in conn.execute(
            text(f"SELECT {', '.join(keys)}, n FROM {table}"))}
        live = {tuple(r[:-1]): int(r[-1]) for r in conn.execute(text(_live_sql(dept)))}
        for key in sorted(set(kept) | set(live)):
            if kept.get(key, 0) != live.get(key, 0):
                out.append({"table": table, **dict(zip(keys, key, strict=True)),
                            "kept": kept.get(key, 0), "counted": live.get(key, 0)})
    return out


def bucket_counts(session: Session, prefixes: list[str] | None, departments: set[str] | None,
                  area_prefix: str | None = None) -> dict[str, int]:
    """Cases per bucket within ``prefixes`` (None: everywhere) and, when ``departments`` is
    not None, assigned to one of them — the same scope as ``service.scoped_query``."""
    if departments is None:
        t: Any = CaseCount
        q = select(t.bucket, func.sum(t.n))
    else:
        t = CaseDepartmentCount
        q = select(t.bucket, func.sum(t.n)).where(t.department_code.in_(sorted(departments)))
    if prefixes is not None:
        q = q.where(within_any(t.area_code, prefixes))
    if area_prefix:
        q = q.where(within(t.area_code, area_prefix))
    return {str(b): int(n or 0) for b, n in session.execute(q.group_by(t.bucket))}
