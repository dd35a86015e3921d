"""The role × area × action matrix, generated from the app's own routes: every route of every
router — the OpenAPI's operations and the pages and their forms alike, so a new route joins by
itself — is requested by each kind of caller with the objects of *another* street, department
or user in its path, query and body, and:

* no answer carries a marker of an object the caller may not see (``world.Marker``: a unique
  string in each seeded object; which ones are foreign follows from the objects' scopes and the
  app's permission table), nor another user's API key;
* no request changes a foreign object (its row and every row that refers to it, compared
  before and after each request), and no request creates a row in a scope the caller holds
  no grant on.

A foreign object is one the caller may not read (the kind's permission within its grants) or
whose street or department none of its grants covers. Only the public routes below may show
or write outside the caller's grants, each with the reason it is public, and the writes the
product's rules allow on another department's object (``SHARED_WRITES``, with the rule); the
event stream is attacked in ``test_feeds.py``. One object of each kind per street. A route
that needs a value this test cannot make fails with the name of its path parameter (add it
to ``PATH_VALUES``).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import re
import shutil
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, MetaData, Table, Text, cast, create_engine, select, text

from citygrowth.app import create_app
from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import PermissionTable, can
from citygrowth.settings import Settings
from tests.factories import DISTRICT
from tests.security.world import CALLERS, GRID, SIDES, WORLD_SECRET, World, build_world

# the callers of the matrix: one of each kind on street A / the urban department (street B and
# the market department hold the objects foreign to them; the world is symmetric)
MATRIX_CALLERS = ("anonymous", "resident_a", "worker_a", "helper_a", "cmd_a", "urban",
                  "analyst", "machine", "admin")
assert set(MATRIX_CALLERS) - {"anonymous"} <= set(CALLERS)

# Public routes: what they show or accept outside the caller's grants is meant to be public.
PUBLIC_READS: dict[str, str] = {
    "GET /track/{token}": "the tracking token is the reporter's own capability",
    "GET /open311/v2/tokens/{token}.{fmt}": "the tracking token is the reporter's capability",
}
PUBLIC_WRITES: dict[str, str] = {
    "POST /api/cases": "anyone may report a problem anywhere in the district",
    "POST /report": "the residents' report form",
    "POST /open311/v2/requests.{fmt}": "Open311 reporting: anyone may report anywhere",
    "POST /track/{token}/rate": "the tracking token is the reporter's capability",
    "POST /track/{token}/reopen": "the tracking token is the reporter's capability",
}
# Writes on another department's object that the product's rules allow every desk officer
# (docs/accountability.md, "investment service desk"): reviewed, each with its rule.
SHARED_WRITES: dict[str, str] = {
    "POST /api/accountability/leads/{lead_id}/follow-ups":
        "any officer with investment.edit may add a follow-up to any lead",
    "POST /investment/leads/{lead_id}/follow-up":
        "any officer with investment.edit may add a follow-up to any lead",
}
ALLOWED_WRITES = set(PUBLIC_WRITES) | set(SHARED_WRITES)
# Routes requested elsewhere, as their own attack (an endless stream cannot be read whole).
ELSEWHERE: dict[str, str] = {
    "GET /api/events": "tests/security/test_feeds.py: 0 foreign events while the others work",
}
# What each kind of object is stored as: its table and the column its id is in.
TABLES: dict[str, tuple[str, str]] = {
    "case": ("cases", "id"), "target": ("acc_targets", "id"), "project": ("acc_projects", "id"),
    "problem": ("acc_project_problems", "id"), "approval": ("acc_approvals", "id"),
    "enterprise": ("acc_enterprises", "id"), "lead": ("acc_leads", "id"),
    "task": ("case_help_tasks", "id"), "load": ("observation_loads", "load_id"),
    "warning": ("analysis_anomalies", "id"), "user": ("users", "id"),
}
# Journals: a row per change, naming the changed object's area and department (the change
# itself is checked on the object's own rows).
JOURNALS = {"acc_changes", "audit_log"}
# Columns that change without a write of the caller's (bookkeeping of reads and logins).
VOLATILE = {"last_used_at", "last_login_at", "read_at"}
WRITE_MARK = "WR"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("world"))


# --- the routes -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    route: APIRoute
    spec: dict[str, Any]  # the OpenAPI operation ({} for a route outside the schema)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def operations(app: FastAPI) -> list[Operation]:
    """Every method of every APIRoute, walking the included routers (pages included)."""
    def walk(routes: list[Any]) -> Iterator[Any]:
        for r in routes:
            inner = getattr(r, "original_router", None)
            yield from walk(list(inner.routes)) if inner is not None else [r]
    paths = app.openapi()["paths"]
    out = []
    for route in walk(list(app.routes)):
        if isinstance(route, APIRoute):
            for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}):
                spec = paths.get(route.path, {}).get(method.lower(), {})
                out.append(Operation(method, route.path, route, spec))
    return out


# --- values foreign to the caller -------------------------------------------------------------

@dataclass
class Caller:
    name: str
    actor: Actor | None
    world: World
    table: PermissionTable
    app: FastAPI
    counter: int = 0
    marks: dict[str, str] = field(default_factory=dict)  # write marker → operation

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.world.keys[self.name]} if self.actor else {}

    def foreign_markers(self) -> list[str]:
        return [m.text for m in self.world.markers if m.foreign_to(self.actor, self.table)]

    def foreign_refs(self) -> dict[str, list[str]]:
        """kind → ids of the objects foreign to the caller (street B's first)."""
        foreign = set(self.foreign_markers())
        out: dict[str, list[str]] = {}
        for marker, (kind, ref) in sorted(self.world.refs.items(), key=lambda r: "B" not in
                                          r[0][:3]):
            if marker in foreign and ref not in out.get(kind, []):
                out.setdefault(kind, []).append(ref)
        users = [n for n in self.world.user_ids if n != self.name]
        if self.actor is None or not can(self.actor, "user.manage"):
            out["user"] = [str(self.world.user_ids[n]) for n in users]
        return out

    def ref(self, kind: str) -> str:
        """An object of ``kind`` foreign to the caller — or street B's when none is."""
        refs = self.foreign_refs().get(kind)
        if refs:
            return refs[0]
        return next(ref for m, (k, ref) in self.world.refs.items() if k == kind and "B" in m[:3])

    def token(self) -> str:
        case = int(self.ref("case"))
        for side in self.world.ids.values():
            if case in side["case"]:
                return str(side["token"][side["case"].index(case)])
        raise AssertionError(case)

    def other_user(self) -> str:
        return "cmd_b" if self.name != "cmd_b" else "cmd_a"

    def write_mark(self, op: Operation) -> str:
        self.counter += 1
        mark = f"{WRITE_MARK}{self.counter:04d}x"
        self.marks[mark] = op.label
        return mark


STREET_B, DEPT_B, POS_B = SIDES["B"]
PATH_VALUES: dict[str, Callable[[Caller, str], str]] = {
    "case_id": lambda c, p: c.ref("case"), "service_request_id": lambda c, p: c.ref("case"),
    "token": lambda c, p: c.token(), "target_id": lambda c, p: c.ref("target"),
    "project_id": lambda c, p: c.ref("project"), "problem_id": lambda c, p: c.ref("problem"),
    "item_id": lambda c, p: c.ref("approval"), "lead_id": lambda c, p: c.ref("lead"),
    "task_id": lambda c, p: c.ref("task"), "load_id": lambda c, p: c.ref("load"),
    "anomaly_id": lambda c, p: c.ref("warning"),
    "username": lambda c, p: c.other_user(),
    "key_id": lambda c, p: str(c.world.key_ids[c.other_user()]),
    "department": lambda c, p: DEPT_B, "channel": lambda c, p: "webhook",
    "code": lambda c, p: _code(p), "fmt": lambda c, p: "json",
    "action": lambda c, p: "dispatch", "kind": lambda c, p: "targets",
    "dataset": lambda c, p: "market_entities", "name": lambda c, p: "x.jpg",
    "service_code": lambda c, p: "E0101",
    # objects the world has none of: an id that would be the next one
    "evidence_id": lambda c, p: "1", "request_id": lambda c, p: "1",
    "briefing_id": lambda c, p: "1", "delivery_id": lambda c, p: "1",
    "rule_id": lambda c, p: "1", "helper_id": lambda c, p: "1",
    # SDMX structures are public statistics
    "agency": lambda c, p: "CITYGROWTH", "resource_id": lambda c, p: "all",
    "version": lambda c, p: "latest", "flow": lambda c, p: "all", "key": lambda c, p: "all",
    "provider": lambda c, p: "all",
    # the holiday calendar is the district's: a year the world has loaded no notice for
    "year": lambda c, p: "2027",
}


def _code(path: str) -> str:
    if "categor" in path:
        return "E0101"
    if "indicator" in path:
        return "IND_NEW_ENTITIES"
    if "department" in path:
        return DEPT_B
    return STREET_B


QUERY_VALUES: dict[str, Callable[[Caller], str]] = {
    "area": lambda c: STREET_B, "street": lambda c: STREET_B, "areas": lambda c: STREET_B,
    "department": lambda c: DEPT_B, "load_id": lambda c: c.ref("load"),
    "case": lambda c: c.ref("case"), "target": lambda c: c.ref("target"),
    "lon": lambda c: str(POS_B[0]), "lat": lambda c: str(POS_B[1]),
}


def fill_path(caller: Caller, op: Operation) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PATH_VALUES:
            raise AssertionError(f"{op.label}: no value for path parameter {name!r}; add one "
                                 "to PATH_VALUES (an object foreign to the caller)")
        return PATH_VALUES[name](caller, op.path)
    return re.sub(r"\{(\w+)\}", value, op.path)


def fill_query(caller: Caller, op: Operation) -> dict[str, str]:
    out = {}
    for p in op.spec.get("parameters", []):
        if p["in"] != "query":
            continue
        if p["name"] in QUERY_VALUES:
            out[p["name"]] = QUERY_VALUES[p["name"]](caller)
        elif p.get("required"):
            out[p["name"]] = str(_value(caller, op, p["name"], p.get("schema", {}), 0))
    return out


def _value(caller: Caller, op: Operation, name: str, schema: dict[str, Any],
           depth: int) -> Any:
    """A valid value for a body or form field, pointing at the foreign side where it names an
    area, a department or an object."""
    openapi = caller.app.openapi()
    if "$ref" in schema:
        target: Any = openapi
        for part in schema["$ref"].split("/")[1:]:
            target = target[part]
        schema = target
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _value(caller, op, name, options[0], depth) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "string")
    today = dt.date.today()
    if kind == "object":
        if depth > 4:
            return {}
        props = schema.get("properties", {})
        return {k: _value(caller, op, k, v, depth + 1) for k, v in props.items()}
    if kind == "array":
        item = _value(caller, op, name, schema.get("items", {}), depth + 1)
        return [item] * max(1, schema.get("minItems", 1))
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        for suffix, ref in (("project_id", "project"), ("lead_id", "lead"),
                            ("target_id", "target"), ("case_id", "case"),
                            ("enterprise_id", "enterprise"), ("problem_id", "problem"),
                            ("anomaly_id", "warning")):
            if name == suffix:
                return int(caller.ref(ref))
        if name in ("lon", "lat"):
            return POS_B[0] if name == "lon" else POS_B[1]
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 100))
        if name.endswith("year"):
            return today.year
        value = max(low + 1, min(1, high - 1)) if kind == "integer" else (low + high) / 2
        return int(value) if kind == "integer" else float(value)
    fmt = schema.get("format")
    if fmt == "binary" or "contentMediaType" in schema:
        if "photo" in name:
            return PNG
        return b"indicator,area_code,period,value\nIND_NEW_ENTITIES," + STREET_B.encode() \
            + b"001,2025-07,1\n"
    if fmt == "date" or name.endswith(("_on", "_date", "deadline")) or name == "date":
        days = 0 if name.startswith("start") else 30
        return (today + dt.timedelta(days=days)).isoformat()
    if fmt == "date-time" or name.endswith("_at"):
        return dt.datetime.now(dt.UTC).isoformat()
    fixed = {
        "area_code": STREET_B, "area_prefix": STREET_B, "department_code": DEPT_B,
        "owner_department_code": DEPT_B, "department": DEPT_B, "co_owners": DEPT_B,
        "category_code": "E0101", "username": caller.other_user(), "role": "analyst",
        "password": "Another-long-pass-9", "project_code": "P-B",
        "indicator": "IND_NEW_ENTITIES", "indicator_code": "IND_NEW_ENTITIES",
        "period": "2025-07", "month": "2025-07", "lang": "zh", "channel": "webhook",
        "case_id": caller.ref("case"), "load_id": caller.ref("load"), "grid": GRID["B"],
        "target": "https://example.org/hook",
    }
    value = str(fixed[name]) if name in fixed else caller.write_mark(op)
    pattern = schema.get("pattern")
    if pattern and not re.fullmatch(pattern, value):
        return next((v for v in _candidates(pattern) if re.fullmatch(pattern, v)), value)
    return value.ljust(schema.get("minLength", 0), "0")[: schema.get("maxLength", len(value))]


def _candidates(pattern: str) -> list[str]:
    """Values to try for a field with a pattern: its first alternative, then codes."""
    alternatives = re.fullmatch(r"\^\(\??:?([\w|-]+)\)\??\$", pattern)
    first = [alternatives.group(1).split("|")[0]] if alternatives else []
    return [*first, GRID["B"], STREET_B, STREET_B + "001", DEPT_B, "E0101", "1", "a", "",
            "91370203MA3C0000XB"]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 60, 60)).save(out, "PNG")
    return out.getvalue()


PNG = _png()


def fill_body(caller: Caller, op: Operation) -> dict[str, Any]:
    """The request's body arguments for TestClient (json=, data= and files=)."""
    content = op.spec.get("requestBody", {}).get("content", {})
    if not content and op.method != "GET":  # a form the route reads itself: common fields
        return {"data": {"action": "dispatch", "department_code": DEPT_B,
                         "note": caller.write_mark(op), "category_code": "E0101",
                         "lon": str(POS_B[0]), "lat": str(POS_B[1])},
                "files": {"_": ("", b"", "application/octet-stream")}}
    if not content:
        return {}
    media, body = next(iter(content.items()))
    value = _value(caller, op, "", body.get("schema", {}), 0)
    if media == "application/json":
        return {"json": json.loads(json.dumps(value, default=str))}
    if not isinstance(value, dict):
        return {"content": value if isinstance(value, bytes) else b"x",
                "headers": {"Content-Type": media}}
    files = {k: ("photo.png", v, "image/png") if v == PNG else ("upload.csv", v, "text/csv")
             for k, v in value.items() if isinstance(v, bytes)}
    data = {k: v for k, v in value.items() if not isinstance(v, bytes | dict)}
    if media.startswith("multipart/") and not files:  # still a multipart body
        files = {"_": ("", b"", "application/octet-stream")}
    return {"data": data, "files": files} if files else {"data": data}


# --- the state of foreign objects ----------------------------------------------------------

class Store:
    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url)
        self.meta = MetaData()
        self.meta.reflect(self.engine)
        # a connection of its own, outside any transaction: its data_version moves when
        # another connection commits, so unchanged stores are not compared row by row
        self.watch = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        self.version = -1

    def moved(self) -> bool:
        version = int(self.watch.execute("PRAGMA data_version").fetchone()[0])
        moved, self.version = version != self.version, version
        return moved

    def close(self) -> None:
        self.watch.close()
        self.engine.dispose()

    def snapshot(self, refs: dict[str, list[str]]) -> dict[str, Any]:
        """Each foreign object's row and the rows of every table referring to it (plain SQL
        on the watching connection: it runs after every committing request)."""
        out: dict[str, Any] = {}
        for kind, ids in refs.items():
            for label, sql in self._queries(kind):
                for ref in ids:
                    cursor = self.watch.execute(sql, (ref,))
                    names = [d[0] for d in cursor.description]
                    out[f"{kind}:{ref}{label}"] = sorted(
                        repr(sorted((k, v) for k, v in zip(names, row, strict=True)
                                    if k not in VOLATILE)) for row in cursor)
        return out

    @functools.cache  # noqa: B019 - one store per test, its tables fixed
    def _queries(self, kind: str) -> list[tuple[str, str]]:
        """(label, SQL with one parameter: the object's id) for the object's row and the
        rows of every table with a foreign key to its table."""
        name, column = TABLES[kind]
        out = [("", f'SELECT * FROM "{name}" WHERE "{column}" = ?')]
        for child in self.children(self.meta.tables[name]):
            for fk in child.foreign_keys:
                if fk.column.table.name == name:
                    out.append((f":{child.name}.{fk.parent.name}",
                                f'SELECT * FROM "{child.name}" WHERE "{fk.parent.name}" IN '
                                f'(SELECT "{fk.column.name}" FROM "{name}" '
                                f'WHERE "{column}" = ?)'))
        return out

    def outside(self, actor: Actor | None, refs: dict[str, tuple[str, str]]
                ) -> dict[str, list[str]]:
        """kind → ids of the objects whose area or department no grant of ``actor`` covers
        (whatever it may read: reading another department's lead is not changing it)."""
        out: dict[str, list[str]] = {}
        with self.engine.connect() as c:
            for kind, ref in refs.values():
                table_name, column = TABLES[kind]
                table = self.meta.tables[table_name]
                row = c.execute(select(table).where(table.c[column] == ref)).mappings().one()
                if not covered(actor, dict(row)) and ref not in out.get(kind, []):
                    out.setdefault(kind, []).append(ref)
        return out

    def children(self, table: Table) -> list[Table]:
        return [t for t in self.meta.tables.values()
                if any(fk.column.table.name == table.name for fk in t.foreign_keys)]

    def marked_rows(self) -> list[tuple[str, dict[str, Any]]]:
        """Every row holding a write marker in a text column: (marker, row)."""
        out = []
        with self.engine.connect() as c:
            for table in self.meta.tables.values():
                for col in table.c:
                    if not str(col.type).upper().startswith(("VARCHAR", "TEXT", "JSON")):
                        continue
                    for row in c.execute(select(table).where(
                            cast(col, Text).like(f"%{WRITE_MARK}____x%"))).mappings():
                        found = re.search(rf"{WRITE_MARK}\d{{4}}x", str(row[col.name]))
                        if found:
                            out.append((found.group(0), {"table": table.name, **row}))
        return out


def foreign_objects(caller: Caller, store: Store) -> dict[str, list[str]]:
    """kind → ids of the objects foreign to the caller: those it may not read, and those in
    a street or department none of its grants covers."""
    refs = caller.foreign_refs()
    for kind, ids in store.outside(caller.actor, caller.world.refs).items():
        refs[kind] = sorted(set(refs.get(kind, [])) | set(ids))
    return refs


def covered(actor: Actor | None, row: dict[str, Any]) -> bool:
    """Whether one of the actor's grants covers the row's area and department."""
    area = row.get("area_code")
    dept = row.get("department_code") or row.get("owner_department_code")
    if actor is None:
        return area is None and dept is None
    return any((area is None or str(area).startswith(g.area_code))
               and (dept is None or g.department_code in (None, dept)) for g in actor.grants)


def answer_text(content: bytes) -> str:
    """The answer as text, with the members of a zip (XLSX, DOCX, data packages) unpacked."""
    parts = [content.decode("utf-8", "replace")]
    if content[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            parts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
    return "\n".join(parts)


# --- the matrix ---------------------------------------------------------------------------

@dataclass
class Findings:
    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    leaks: list[str] = field(default_factory=list)
    answers: list[tuple[str, int, str]] = field(default_factory=list)  # to read a failure


def run_matrix(world: World, root: Path, name: str) -> Findings:
    copy = root / "store"
    shutil.copytree(Path(world.url.removeprefix("sqlite:///")).parent, copy)
    url = f"sqlite:///{copy / 'citygrowth.db'}"
    settings = Settings(data_dir=copy / "var", database_url=url, env="test",
                        secret_key=WORLD_SECRET, scheduler_enabled=False, log_level="ERROR")
    app = create_app(settings)
    table = app.state.runtime.permissions
    actor = world.actors.get(name)
    caller = Caller(name, actor, world, table, app)
    store = Store(url)
    refs = foreign_objects(caller, store)
    markers = caller.foreign_markers()
    secrets_ = [k for n, k in world.keys.items() if n != name]
    found = Findings()
    with TestClient(app, raise_server_exceptions=False) as client:
        after = store.snapshot(refs)
        store.moved()
        for op in operations(app):
            if op.label in ELSEWHERE:
                continue
            before = after
            if store.moved():  # a commit since the last comparison: find what changed
                before = store.snapshot(refs)
                if changed := [k for k in before if before[k] != after[k]]:
                    found.leaks.append(f"{name}: a request before {op.label} changed {changed}")
            request = fill_body(caller, op)
            headers = {**caller.headers, **request.pop("headers", {})}
            r = client.request(op.method, fill_path(caller, op), params=fill_query(caller, op),
                               headers=headers, follow_redirects=False, **request)
            found.requests += 1
            found.answers.append((op.label, r.status_code, r.text[:200]))
            found.by_status[r.status_code] = found.by_status.get(r.status_code, 0) + 1
            body = answer_text(r.content)
            if op.label not in PUBLIC_READS:
                seen = [m for m in markers if m in body]
                if seen:
                    found.leaks.append(f"{name} {op.label} → {r.status_code} shows {seen}")
            if any(s in body for s in secrets_):
                found.leaks.append(f"{name} {op.label} shows another user's API key")
            after = store.snapshot(refs) if store.moved() else before
            changed = [k for k in before if before[k] != after[k]]
            if changed and op.label not in ALLOWED_WRITES:
                found.leaks.append(f"{name} {op.label} → {r.status_code} changed {changed}")
    for mark, row in store.marked_rows():
        label = caller.marks.get(mark, "?")
        if label not in ALLOWED_WRITES and row["table"] not in JOURNALS \
                and not covered(actor, row):
            found.leaks.append(f"{name} {label} wrote {row['table']} outside its grants: "
                               f"area {row.get('area_code')}, department "
                               f"{row.get('department_code') or row.get('owner_department_code')}")
    store.close()
    app.state.runtime.dispose()
    return found


@pytest.mark.parametrize("name", MATRIX_CALLERS)
def test_no_caller_sees_or_changes_what_is_not_theirs(world: World, tmp_path: Path,
                                                      name: str) -> None:
    found = run_matrix(world, tmp_path, name)
    print(f"\n{name}: {found.requests} requests, statuses {sorted(found.by_status.items())}")
    assert not found.leaks, "\n".join(found.leaks)
    assert found.requests > 250  # the walk reaches every domain's routes and pages
    # the caller's requests got past the door: a matrix of 401s alone would prove nothing
    if name != "anonymous":
        assert sum(n for s, n in found.by_status.items() if s < 300) > 40, found.by_status


def test_the_matrix_has_foreign_objects_of_every_kind(world: World, tmp_path: Path) -> None:
    """Street A's staff and the anonymous caller have objects of every kind foreign to them,
    the urban officer another department's, the district administrator none but other
    users' — so the matrix asks of each caller what its grants make foreign."""
    app = create_app(Settings(data_dir=tmp_path / "var", database_url=world.url, env="test",
                              secret_key=WORLD_SECRET, scheduler_enabled=False))
    table = app.state.runtime.permissions
    store = Store(world.url)
    try:
        def kinds(name: str) -> set[str]:
            caller = Caller(name, world.actors.get(name), world, table, app)
            return set(foreign_objects(caller, store))
        assert kinds("anonymous") == set(TABLES)
        assert kinds("cmd_a") == set(TABLES) - {"load"}  # loads are the district's data
        assert {"case", "target", "project", "load", "warning", "user"} <= kinds("urban")
        assert kinds("admin") == set()
        assert all(g.area_code == DISTRICT for g in world.actors["admin"].grants)
    finally:
        store.close()
        app.state.runtime.dispose()


def test_public_routes_exist(tmp_path: Path) -> None:
    """The allow-lists name routes that exist (a renamed route drops out of them)."""
    app = create_app(Settings(data_dir=tmp_path / "var",
                              database_url=f"sqlite:///{tmp_path / 'x.db'}", env="test",
                              secret_key="s", scheduler_enabled=False))
    labels = {op.label for op in operations(app)}
    missing = (set(PUBLIC_READS) | set(PUBLIC_WRITES) | set(SHARED_WRITES)
               | set(ELSEWHERE)) - labels
    assert not missing, missing



def test_the_detectors_catch_a_foreign_change_and_a_foreign_row(world: World,
                                                                tmp_path: Path) -> None:
    """What the matrix compares does catch a changed foreign object and a row written in
    another street (so a matrix without findings means something)."""
    shutil.copytree(Path(world.url.removeprefix("sqlite:///")).parent, tmp_path / "store")
    store = Store(f"sqlite:///{tmp_path / 'store' / 'citygrowth.db'}")
    case_b = str(world.ids["B"]["case"][0])
    before = store.snapshot({"case": [case_b], "user": [str(world.user_ids["cmd_b"])]})
    assert store.moved() and not store.moved()
    with store.engine.begin() as c:
        c.execute(text("UPDATE case_events SET note = 'x' WHERE case_id = :i"), {"i": case_b})
        c.execute(text("UPDATE cases SET address = 'WR0001x' WHERE id = :i"), {"i": case_b})
    assert store.moved()
    after = store.snapshot({"case": [case_b], "user": [str(world.user_ids["cmd_b"])]})
    assert {k for k in before if before[k] != after[k]} == {
        f"case:{case_b}", f"case:{case_b}:case_events.case_id"}
    assert len(before[f"user:{world.user_ids['cmd_b']}:api_keys.user_id"]) == 1
    (mark, row), = store.marked_rows()
    assert mark == "WR0001x" and row["table"] == "cases"
    assert not covered(world.actors["cmd_a"], row) and covered(world.actors["cmd_b"], row)
    assert not covered(world.actors["urban"], row) or row["department_code"] == "urban"
    assert covered(world.actors["admin"], row) and not covered(None, row)
    store.close()
    assert "MKA" in answer_text(_zip({"x.xml": "<c>MKA</c>"}))


def _zip(members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in members.items():
            z.writestr(name, body)
    return out.getvalue()
