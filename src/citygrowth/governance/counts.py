"""How many cases each status and queue holds, without counting the cases.

The command centers, ``/api/cases/queues`` and the area profile show, for the reader's areas,
how many cases are in each status and in the queues. Counted from ``cases`` on each request
this costs a scan of every case in scope: seconds at ten million cases. Instead two small
tables hold the counts per area (and per assigned department, for department officers):
``case_counts`` and ``case_department_counts``, per area and *bucket* — a status,
``+supervised`` (open and supervised) or ``+pending`` (an extension or postponement awaiting
approval) — two rows: the area's own cases (``own`` = 1) and those of every area below it
(``own`` = 0). A reader whose scope is an area (a grant, a street picked on a page) reads
two rows per bucket, whatever the number of cases or of grid cells below; any other prefix
sums the own rows of the areas it begins.

Database triggers keep them, in the same transaction as every insert, update and delete of a
case, whoever writes it (the lifecycle, intake, an import, or SQL typed by hand), on SQLite
and PostgreSQL (where a ``TRUNCATE`` empties them too). The two queues that move with the
clock rather than with a write — overdue and due soon — are counted live, in one pass over
the running cases of the partial index of open cases (``ix_cases_open``).

:func:`rebuild` recounts from ``cases`` (after a bulk load with the triggers off), and
:func:`drift` compares both (``citygrowth cases recount --check``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, text, true
from sqlalchemy.orm import Session

from citygrowth.areas.codes import CODE_LENGTH, level_of, within
from citygrowth.governance.models import OPEN_SQL, CaseCount, CaseDepartmentCount

SUPERVISED = "+supervised"
PENDING = "+pending"
TABLES = ("case_counts", "case_department_counts")
# the code lengths of the areas that enclose another (district, street, community)
ANCESTOR_LENGTHS = tuple(n for n in sorted(CODE_LENGTH.values()) if n < max(CODE_LENGTH.values()))


def _buckets(row: str) -> list[tuple[str, str, str]]:
    """(name, bucket, condition) of a case ``row`` (``OLD`` or ``NEW`` in a trigger)."""
    return [("status", f"{row}.status", "1 = 1"),
            ("supervised", f"'{SUPERVISED}'",
             f"{row}.supervised AND {row}.status IN ({OPEN_SQL})"),
            ("pending", f"'{PENDING}'", f"{row}.pending IS NOT NULL")]


def _places(row: str) -> list[tuple[str, int, str]]:
    """(area expression, own, condition): the case's own area, then each enclosing area."""
    return [(f"{row}.area_code", 1, "1 = 1")] + [
        (f"substr({row}.area_code, 1, {n})", 0, f"length({row}.area_code) > {n}")
        for n in ANCESTOR_LENGTHS]


def _decrement(bucket: str, cond: str, row: str = "OLD") -> list[str]:
    out = []
    for area, own, where in _places(row):
        out.append(f"UPDATE case_counts SET n = n - 1 WHERE area_code = {area} AND own = {own} "
                   f"AND bucket = {bucket} AND {where} AND {cond};")
    out.append(f"UPDATE case_department_counts SET n = n - 1 WHERE department_code = "
               f"{row}.department_code AND area_code = {row}.area_code AND bucket = {bucket} "
               f"AND {cond};")
    return out


def _increment(bucket: str, cond: str, row: str = "NEW") -> list[str]:
    out = []
    for area, own, where in _places(row):
        out.append(f"INSERT INTO case_counts (area_code, own, bucket, n) SELECT {area}, {own}, "
                   f"{bucket}, 1 WHERE {where} AND {cond} ON CONFLICT (area_code, own, bucket) "
                   "DO UPDATE SET n = case_counts.n + 1;")
    out.append(f"INSERT INTO case_department_counts (department_code, area_code, bucket, n) "
               f"SELECT {row}.department_code, {row}.area_code, {bucket}, 1 WHERE "
               f"{row}.department_code IS NOT NULL AND {cond} ON CONFLICT (department_code, "
               "area_code, bucket) DO UPDATE SET n = case_department_counts.n + 1;")
    return out


_KEYS = ("status", "area_code", "department_code")


def _changed(columns: tuple[str, ...], pg: bool) -> str:
    op = "IS DISTINCT FROM" if pg else "IS NOT"
    return " OR ".join(f"OLD.{c} {op} NEW.{c}" for c in columns)


def trigger_ddl(dialect: str) -> list[str]:
    """The statements that install the triggers on ``dialect`` (sqlite or postgresql).

    Most writes touch only the status bucket: a new case, a step of the loop. The flag
    buckets (supervised, pending) are kept by statements that run only when a flag is set
    before or after the write, and an update that changes none of the columns counted runs
    nothing."""
    if dialect == "sqlite":
        out = []
        for (name, b_old, old), (_, b_new, new) in zip(_buckets("OLD"), _buckets("NEW"),
                                                       strict=True):
            dec = " ".join(_decrement(b_old, old))
            inc = " ".join(_increment(b_new, new))
            cols = _KEYS if name == "status" else (*_KEYS, name)
            flag = name != "status"
            out += [
                f"CREATE TRIGGER case_counts_{name}_insert AFTER INSERT ON cases"
                f"{f' WHEN {new}' if flag else ''} BEGIN {inc} END",
                f"CREATE TRIGGER case_counts_{name}_delete AFTER DELETE ON cases"
                f"{f' WHEN {old}' if flag else ''} BEGIN {dec} END",
                f"CREATE TRIGGER case_counts_{name}_update AFTER UPDATE OF {', '.join(cols)} "
                f"ON cases WHEN ({_changed(cols, False)})"
                f"{f' AND (({old}) OR ({new}))' if flag else ''} BEGIN {dec} {inc} END"]
        return out
    body_old = " ".join(f"IF {cond} THEN {' '.join(_decrement(bucket, cond, 'OLD'))} END IF;"
                        for _, bucket, cond in _buckets("OLD"))
    body_new = " ".join(f"IF {cond} THEN {' '.join(_increment(bucket, cond, 'NEW'))} END IF;"
                        for _, bucket, cond in _buckets("NEW"))
    watched = (*_KEYS, "supervised", "pending")
    return [
        "CREATE OR REPLACE FUNCTION case_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN IF TG_OP <> 'INSERT' THEN {body_old} END IF; "
        f"IF TG_OP <> 'DELETE' THEN {body_new} END IF; RETURN NULL; END $$",
        "CREATE OR REPLACE FUNCTION case_counts_clear() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN DELETE FROM case_counts; DELETE FROM case_department_counts; RETURN NULL; "
        "END $$",
        "CREATE TRIGGER case_counts_keep AFTER INSERT OR DELETE ON cases FOR EACH ROW "
        "EXECUTE FUNCTION case_counts_keep()",
        f"CREATE TRIGGER case_counts_change AFTER UPDATE OF {', '.join(watched)} ON cases "
        f"FOR EACH ROW WHEN ({_changed(watched, True)}) EXECUTE FUNCTION case_counts_keep()",
        "CREATE TRIGGER case_counts_clear AFTER TRUNCATE ON cases FOR EACH STATEMENT "
        "EXECUTE FUNCTION case_counts_clear()",
    ]


def drop_ddl(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS case_counts_{b}_{w}" for b in ("status", "supervised",
                                                                       "pending")
                for w in ("insert", "delete", "update")]
    return ["DROP TRIGGER IF EXISTS case_counts_keep ON cases",
            "DROP TRIGGER IF EXISTS case_counts_change ON cases",
            "DROP TRIGGER IF EXISTS case_counts_clear ON cases",
            "DROP FUNCTION IF EXISTS case_counts_keep()",
            "DROP FUNCTION IF EXISTS case_counts_clear()"]


def install(conn: Connection) -> None:
    """(Re)install the triggers on ``conn``'s database."""
    for stmt in drop_ddl(conn.dialect.name) + trigger_ddl(conn.dialect.name):
        conn.execute(text(stmt))


def _own_sql(dept: bool) -> str:
    """The counts of each area's own cases, from ``cases``."""
    key, where = ("department_code, area_code", "department_code IS NOT NULL AND ") if dept \
        else ("area_code", "")
    return (f"SELECT {key}, status AS bucket, count(*) AS n FROM cases "
            f"{'WHERE ' + where[:-5] if where else ''} GROUP BY {key}, status UNION ALL "
            f"SELECT {key}, '{SUPERVISED}', count(*) FROM cases WHERE {where}supervised AND "
            f"status IN ({OPEN_SQL}) GROUP BY {key} UNION ALL SELECT {key}, '{PENDING}', "
            f"count(*) FROM cases WHERE {where}pending IS NOT NULL GROUP BY {key}")


def rebuild(conn: Connection) -> int:
    """Recount both tables from ``cases`` (in ``conn``'s transaction): each area's own
    cases, then the enclosing areas' sums of them. Returns the rows written."""
    n = 0
    for table, dept in zip(TABLES, (False, True), strict=True):
        conn.execute(text(f"DELETE FROM {table}"))
        if dept:
            n += conn.execute(text(f"INSERT INTO {table} (department_code, area_code, bucket, "
                                   f"n) {_own_sql(dept)}")).rowcount
            continue
        n += conn.execute(text(f"INSERT INTO {table} (area_code, own, bucket, n) SELECT "
                               f"area_code, 1, bucket, n FROM ({_own_sql(dept)}) c")).rowcount
        for length in ANCESTOR_LENGTHS:
            n += conn.execute(text(
                f"INSERT INTO {table} (area_code, own, bucket, n) SELECT substr(area_code, 1, "
                f"{length}), 0, bucket, sum(n) FROM {table} WHERE own = 1 AND length(area_code) "
                f"> {length} GROUP BY substr(area_code, 1, {length}), bucket")).rowcount
    return n


def drift(conn: Connection) -> list[dict[str, Any]]:
    """Rows where a kept count differs from a count of ``cases`` (empty when all agree)."""
    out: list[dict[str, Any]] = []
    for table, dept in zip(TABLES, (False, True), strict=True):
        keys = ("department_code", "area_code", "bucket") if dept else \
            ("area_code", "own", "bucket")
        kept = {tuple(r[:-1]): int(r[-1]) for r in conn.execute(
            text(f"SELECT {', '.join(keys)}, n FROM {table}"))}
        live: dict[tuple[Any, ...], int] = {}
        for *head, area, bucket, n in conn.execute(text(_own_sql(dept))):
            if dept:  # a department's counts: own rows only
                live[(*head, area, bucket)] = int(n)
                continue
            live[(area, 1, bucket)] = live.get((area, 1, bucket), 0) + int(n)
            for length in ANCESTOR_LENGTHS:
                if len(area) > length:
                    k = (area[:length], 0, bucket)
                    live[k] = live.get(k, 0) + int(n)
        for key in sorted(set(kept) | set(live)):
            if kept.get(key, 0) != live.get(key, 0):
                out.append({"table": table, **dict(zip(keys, key, strict=True)),
                            "kept": kept.get(key, 0), "counted": live.get(key, 0)})
    return out


def effective_prefixes(prefixes: list[str] | None, area_prefix: str | None
                       ) -> list[str] | None:
    """The area prefixes a reader with ``prefixes`` (None: everywhere) sees under
    ``area_prefix``, none inside another (so that no case is counted twice)."""
    if prefixes is None:
        return [area_prefix] if area_prefix else None
    out = set()
    for p in prefixes:
        if not area_prefix or area_prefix.startswith(p):
            out.add(area_prefix or p)
        elif p.startswith(area_prefix):
            out.add(p)
    return sorted(p for p in out if not any(p != q and p.startswith(q) for q in out))


def bucket_counts(session: Session, prefixes: list[str] | None, departments: set[str] | None,
                  area_prefix: str | None = None) -> dict[str, int]:
    """Cases per bucket within ``prefixes`` (None: everywhere) and, when ``departments`` is
    not None, assigned to one of them — the same scope as ``service.scoped_query``. An area
    code reads its two rows (own cases, cases below); another prefix, and a department's
    counts (kept for each area's own cases only: officers see a district or less), sum the
    own rows of the areas it begins."""
    if departments is None:
        t: Any = CaseCount
        q = select(t.bucket, func.sum(t.n))
    else:
        t = CaseDepartmentCount
        q = select(t.bucket, func.sum(t.n)).where(t.department_code.in_(sorted(departments)))
    wanted = effective_prefixes(prefixes, area_prefix)
    own = t.own == 1 if departments is None else true()
    if wanted is None:
        q = q.where(own)
    else:
        if not wanted:
            return {}
        q = q.where(or_(*[t.area_code == p if level_of(p) and departments is None
                          else and_(own, within(t.area_code, p)) for p in wanted]))
    return {str(b): int(n or 0) for b, n in session.execute(q.group_by(t.bucket))}
