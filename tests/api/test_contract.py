"""Every operation answers as its OpenAPI description says — for every status it documents.

Each operation of ``/openapi.json`` is called in the ways that produce its documented statuses
where that is feasible: as a district administrator with values of the seeded district (2xx),
anonymously and with a key that is not valid (401), as a street commander of another street,
as a grid worker and as a resident (403), with path values that name nothing (404), with input
that breaks the declared constraints (422). Every answer must have a documented status and a
declared media type, and a JSON body must match the declared schema strictly (no field the
schema does not name). The last test prints which documented statuses were produced and
requires nearly all that can be.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from citygrowth.app import create_app
from tests.api.conftest import GRID_A, POS_A, STREET_A, Site, make_settings
from tests.api.contract import Answer, Contract, minimal, resolve

pytestmark = pytest.mark.xdist_group("api-contract")

SPEC = create_app(make_settings(Path(tempfile.mkdtemp(prefix="cg-spec-")))).openapi()
CONTRACT = Contract(SPEC)
OPERATIONS = [(m, p) for m, p, _ in CONTRACT.operations()]
# (operation, status) → how it was produced, for the summary at the end
PRODUCED: dict[tuple[str, str], dict[int, str]] = {}
BAD_KEY = "cg_000000000000_not-a-key-at-all-not-a-key-at"
# writes that would change what every other test reads: tried with input that is refused
NO_SUCCESS = {("post", "/api/workbench/publish"), ("post", "/api/index/runs"),
              ("post", "/api/accountability/measures/publish")}


def path_values(path: str, site: Site) -> dict[str, str]:
    ids = site.ids
    code = ("ECO_GDP" if "/catalog/" in path or "/exchange/" in path else
            "C0102" if "/categories/" in path else STREET_A)
    return {"case_id": str(ids["case_id"]), "target_id": str(ids["target_id"]),
            "project_id": str(ids["project_id"]), "item_id": str(ids["item_id"]),
            "lead_id": str(ids["lead_id"]), "rule_id": str(ids["rule_id"]),
            "key_id": str(ids["key_id"]), "code": code, "username": "victim",
            "department": "urban", "channel": "webhook", "dataset": "stats",
            "kind": "targets", "action": "dispatch", "fmt": "json", "token": ids["token"],
            "service_code": "E0101", "service_request_id": str(ids["case_id"]),
            "name": "trend", "load_id": ids["load_id"], "flow": "CGI", "agency": "all",
            "resource_id": "all", "version": "latest", "key": "all", "provider": "all"}


MISSING = {"integer": "2147480000", "string": "ZZ999999999"}


def query_values(site: Site) -> dict[str, Any]:
    return {"indicator": "ECO_GDP", "area": STREET_A, "unit": STREET_A, "start": "2025",
            "end": "2025", "period": "2025", "x": "ECO_GDP", "y": "ECO_GDP",
            "target": site.ids["target_code"], "lat": POS_A[1], "lon": POS_A[0],
            "load_id": site.ids["load_id"], "areas": STREET_A, "version": "9.9.9",
            "level": "street", "format": "json"}


def body_values(site: Site) -> dict[str, Any]:
    return {"category_code": "E0101", "lon": POS_A[0], "lat": POS_A[1], "area_code": GRID_A,
            "department_code": "urban", "enterprise_id": site.ids["enterprise_id"],
            "role": "grid_worker", "username": "victim", "milestone_id": 1,
            "owner_department_code": "urban", "description": "检查接口", "title": "帮办",
            "title_zh": "里程碑", "name_zh": "名称", "password": "another-pass-2026!"}


@dataclass
class Attempt:
    name: str
    path: str
    headers: dict[str, str]
    query: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None


def _params(op: dict[str, Any], where: str) -> list[dict[str, Any]]:
    return [p for p in op.get("parameters", []) if p["in"] == where]


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), "x"), path)


def _body(op: dict[str, Any], site: Site) -> dict[str, Any]:
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        schema = content["application/json"].get("schema", {})
        return {"json": minimal(SPEC, schema, "", body_values(site))}
    if "multipart/form-data" in content:
        schema = resolve(SPEC, content["multipart/form-data"].get("schema", {}))
        files = {k: ("upload.csv", b"indicator,area_code,period,value\n", "text/csv")
                 for k, v in schema.get("properties", {}).items()
                 if resolve(SPEC, v).get("format") == "binary"} or {
            "file": ("upload.csv", b"x\n", "text/csv")}
        data = {k: minimal(SPEC, v, k, body_values(site))
                for k, v in schema.get("properties", {}).items()
                if k in schema.get("required", []) and k not in files}
        return {"files": files, "data": data or None}
    if "application/x-www-form-urlencoded" in content:
        schema = content["application/x-www-form-urlencoded"].get("schema", {})
        return {"data": minimal(SPEC, schema, "", body_values(site)) or {"x": "1"}}
    return {}


def _invalid(op: dict[str, Any], base: Attempt) -> Attempt | None:
    """The request with input that breaks a declared constraint (a 422)."""
    required = [p["name"] for p in _params(op, "query") if p.get("required")]
    if required:
        return Attempt("invalid", base.path, base.headers,
                       {k: v for k, v in base.query.items() if k != required[0]})
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        return Attempt("invalid", base.path, base.headers, base.query, json=["not", "this"])
    for p in _params(op, "query"):
        schema = resolve(SPEC, p.get("schema", {}))
        options = [resolve(SPEC, o) for o in schema.get("anyOf", [schema])]
        if any("minimum" in o for o in options):
            return Attempt("invalid", base.path, base.headers, {**base.query, p["name"]: -9})
        if any("pattern" in o or "enum" in o for o in options):
            return Attempt("invalid", base.path, base.headers, {**base.query, p["name"]: "!"})
    for p in _params(op, "path"):
        schema = resolve(SPEC, p.get("schema", {}))
        if schema.get("type") == "integer" or "pattern" in schema or "enum" in schema:
            return Attempt("invalid", re.sub("{" + p["name"] + "}", "!!", base.path),
                           base.headers, base.query)
    return None


def attempts(method: str, path: str, site: Site) -> Iterator[Attempt]:
    op = SPEC["paths"][path][method]
    query = {p["name"]: query_values(site).get(p["name"], "x") for p in _params(op, "query")
             if p.get("required")}
    filled = _fill(path, path_values(path, site))
    body = {} if (method, path) in NO_SUCCESS else _body(op, site)
    admin = Attempt("administrator", filled, site.h("admin"), query, **body)
    yield admin
    yield Attempt("anonymous", filled, {}, query, **body)
    yield Attempt("a key that is not valid", filled, {"X-API-Key": BAD_KEY}, query, **body)
    yield Attempt("another street's commander", filled, site.h("cmd_b"), query, **body)
    yield Attempt("a grid worker", filled, site.h("grid"), query, **body)
    yield Attempt("a resident", filled, site.h("resident"), query, **body)
    if _params(op, "path"):
        missing = {p["name"]: MISSING["integer" if resolve(SPEC, p.get("schema", {})).get(
            "type") == "integer" else "string"] for p in _params(op, "path")}
        yield Attempt("a path naming nothing", _fill(path, {**path_values(path, site),
                                                             **missing}), admin.headers,
                      query, **body)
    if (bad := _invalid(op, admin)) is not None:
        yield bad


@pytest.fixture(scope="module")
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(site.app, raise_server_exceptions=False) as c:
        yield c


def send(client: TestClient, method: str, a: Attempt) -> Answer:
    client.cookies.clear()
    r = client.request(method.upper(), a.path, params=a.query, headers=a.headers,
                       json=a.json, data=a.data, files=a.files, follow_redirects=False)
    return Answer(r.status_code, r.headers.get("content-type", ""), r.content)


@pytest.mark.parametrize(("method", "path"), OPERATIONS,
                         ids=[f"{m.upper()} {p}" for m, p in OPERATIONS])
def test_every_answer_is_documented(site: Site, client: TestClient, method: str,
                                    path: str) -> None:
    problems = exercise(site, client, method, path)
    assert not problems, "\n".join(problems)


def exercise(site: Site, client: TestClient, method: str, path: str) -> list[str]:
    """Send every attempt at one operation; note the statuses it produced in ``PRODUCED``;
    the answers that break the description."""
    problems: list[str] = []
    seen: dict[int, str] = {}
    for attempt in attempts(method, path, site):
        answer = send(client, method, attempt)
        seen.setdefault(answer.status, attempt.name)
        if answer.status >= 500:
            problems.append(f"{attempt.name}: a server error {answer.body[:300]!r}")
        problems += [f"{attempt.name}: {p}" for p in CONTRACT.problems(method, path, answer)]
    PRODUCED[(method, path)] = seen
    return problems


# Statuses no request of a well-behaved test can produce: a crash, a store that cannot be
# written, a body over the size limit (its own test elsewhere), a conflict that needs a second
# identical write, a redirect of a form completed with a CSRF token.
HARD_TO_PRODUCE = {"500", "503", "413", "409", "429", "303"}


def test_documented_statuses_are_produced(site: Site, client: TestClient) -> None:
    for method, path in OPERATIONS:  # those another worker process ran, again here
        if (method, path) not in PRODUCED:
            exercise(site, client, method, path)
    documented = {(m, p, s) for m, p, op in CONTRACT.operations() for s in op["responses"]
                  if s not in HARD_TO_PRODUCE}
    produced = {(m, p, str(s)) for (m, p), seen in PRODUCED.items() for s in seen}
    missing = sorted(documented - produced)
    share = 1 - len(missing) / len(documented)
    print(f"\n{len(documented) - len(missing)} of {len(documented)} documented (operation, "
          f"status) pairs produced ({share:.0%}); not produced:")
    for m, p, s in missing:
        print(f"  {m.upper()} {p} {s}")
    assert share >= 0.75
