"""A client generated from the live server's ``/openapi.json`` by an independent generator
(openapi-python-client) reads, writes and meets errors as the description promises.

The server runs in its own process on the seeded district (``tests.serve``). The client is
generated from what that server answers at ``/openapi.json`` — not from the app object — into
a temporary package and imported; every call goes through the generated functions and models,
with ``raise_on_unexpected_status`` on, so an answer whose status the description does not
name fails the test. The generated models keep fields the schema does not name in
``additional_properties``: they must stay empty (no undocumented field).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import httpx
import pytest

from tests.api.conftest import POS_A, Site
from tests.serve import serve_app

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("api-client")]
PACKAGE = "citygrowth_generated_client"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"


class Generated:
    """The generated package: its client classes and the function module of an operation."""

    def __init__(self, package: ModuleType, spec: dict[str, Any], url: str) -> None:
        self.package, self.spec, self.url = package, spec, url
        self.root = Path(package.__file__ or "").parent

    def call(self, method: str, path: str) -> ModuleType:
        """The module of the operation ``method path`` (found by its operationId)."""
        oid = self.spec["paths"][path][method]["operationId"]
        found = list((self.root / "api").glob(f"*/{oid}.py"))
        assert len(found) == 1, f"{method.upper()} {path}: {oid} generated as {found}"
        tag = found[0].parent.name
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{oid}")

    def model(self, name: str) -> Any:
        return getattr(importlib.import_module(f"{PACKAGE}.models"), name)

    def client(self, key: str | None) -> Any:
        if key is None:
            return self.package.Client(base_url=self.url, raise_on_unexpected_status=True)
        return self.package.AuthenticatedClient(base_url=self.url, token=key,
                                                raise_on_unexpected_status=True)


def generate(url: str, where: Path) -> tuple[ModuleType, dict[str, Any]]:
    spec = httpx.get(f"{url}/openapi.json", timeout=30).raise_for_status().json()
    (where / "openapi.json").write_text(json.dumps(spec), encoding="utf-8")
    (where / "config.json").write_text(json.dumps({
        "package_name_override": PACKAGE, "post_hooks": []}), encoding="utf-8")
    done = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(where / "openapi.json"), "--config",
         str(where / "config.json"), "--meta", "none", "--output-path", str(where / PACKAGE)],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    # what the generator could not express: only answers in media types it does not support
    # (files: CSV, XLSX, Parquet, zip, XML …), never a schema it could not read
    skipped = [line for line in done.stdout.splitlines()
               if line.startswith("Cannot parse") and "Unsupported content_type" not in line]
    assert not skipped, done.stdout
    sys.path.insert(0, str(where))
    try:
        return importlib.import_module(PACKAGE), spec
    finally:
        sys.path.remove(str(where))


@pytest.fixture(scope="module")
def gen(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    with serve_app(site.settings) as url:
        package, spec = generate(url, tmp_path_factory.mktemp("generated-client"))
        yield Generated(package, spec, url)
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def documented_only(obj: Any) -> int:
    """``obj`` (a generated model) and the models inside it hold no undocumented field; how
    many models were looked at. A model of nothing but ``additional_properties`` is a map the
    description leaves open (such as an event's ``detail``)."""
    if [f.name for f in attrs.fields(type(obj))] == ["additional_properties"]:
        return 0
    extra = getattr(obj, "additional_properties", None)
    assert not extra, f"{type(obj).__name__} got fields not in the description: {extra}"
    seen = 1
    for f in attrs.fields(type(obj)):
        value = getattr(obj, f.name)
        for item in value if isinstance(value, list) else [value]:
            if attrs.has(type(item)):
                seen += documented_only(item)
    return seen


def test_a_read_pages_through_the_cases(gen: Generated, site: Site) -> None:
    client = gen.client(site.keys["admin"])
    api_cases = gen.call("get", "/api/cases")
    first = api_cases.sync_detailed(client=client, limit=2, count=True)
    assert first.status_code == 200
    page = first.parsed
    assert type(page).__name__ == "PageCaseOut"
    assert documented_only(page) == 3  # the page and its two cases
    assert page.ok is True and len(page.items) == 2 and page.total == len(site.ids["cases"])
    assert all(type(c).__name__ == "CaseOut" and c.category_code == "E0101"
               for c in page.items)
    assert first.headers["link"] == f'<{page.next_}>; rel="next"'
    # the cursor is opaque: the client hands back what next holds
    cursor = parse_qs(urlsplit(page.next_).query)["cursor"][0]
    rest = api_cases.sync(client=client, limit=2, cursor=cursor)
    documented_only(rest)
    ids = [c.id for c in page.items] + [c.id for c in rest.items]
    assert rest.next_ is None and sorted(ids, reverse=True) == ids
    assert set(ids) == set(site.ids["cases"])


def test_a_write_reports_a_case_and_reads_it_back(gen: Generated, site: Site) -> None:
    client = gen.client(site.keys["admin"])
    report_in = gen.model("ReportIn")
    body = report_in(category_code="E0101", lon=POS_A[0], lat=POS_A[1],
                     description="生成的客户端上报", source="api")
    made = gen.call("post", "/api/cases").sync_detailed(client=client, body=body,
                                                        idempotency_key="gen-client-0001")
    assert made.status_code == 201
    ack = made.parsed
    assert type(ack).__name__ == "ReportAckOut" and ack.ok is True
    documented_only(ack)
    # the same report again (same Idempotency-Key): 200 with the same case, as documented
    again = gen.call("post", "/api/cases").sync_detailed(client=client, body=body,
                                                         idempotency_key="gen-client-0001")
    assert again.status_code == 200 and again.parsed.id == ack.id
    detail = gen.call("get", "/api/cases/{case_id}").sync(client=client, case_id=ack.id)
    assert type(detail).__name__ == "CaseDetailOut"
    documented_only(detail)
    assert detail.case.description == "生成的客户端上报" and detail.case.status == "reported"
    assert [e.action for e in detail.events] == ["report"]


def test_errors_arrive_in_the_one_shape(gen: Generated, site: Site) -> None:
    error_out = gen.model("ErrorOut")
    report = gen.call("post", "/api/cases")
    bad = report.sync_detailed(client=gen.client(site.keys["admin"]), body=gen.model(
        "ReportIn")(category_code="NOPE", lon=POS_A[0], lat=POS_A[1], description="x",
                    source="api"))
    assert bad.status_code == 422 and isinstance(bad.parsed, error_out)
    documented_only(bad.parsed)
    assert bad.parsed.ok is False and bad.parsed.code == "invalid"
    assert bad.parsed.errors and bad.parsed.errors[0].field == "category_code"
    # no credentials, and a key that is not one: 401 in the same shape
    case = gen.call("get", "/api/cases/{case_id}")
    anon = case.sync_detailed(client=gen.client(None), case_id=site.ids["case_id"])
    assert anon.status_code == 401 and isinstance(anon.parsed, error_out)
    assert anon.parsed.code == "unauthenticated"
    wrong = case.sync_detailed(client=gen.client("cg_000000000000_not-a-key-at-all-not-a"),
                               case_id=site.ids["case_id"])
    assert wrong.status_code == 401 and wrong.parsed.code == "bad_api_key"
    # a case outside the caller's street: 403 or 404, never the case
    other = case.sync_detailed(client=gen.client(site.keys["cmd_b"]),
                               case_id=site.ids["case_id"])
    assert other.status_code in (403, 404) and isinstance(other.parsed, error_out)
    missing = case.sync_detailed(client=gen.client(site.keys["admin"]), case_id=2_000_000)
    assert missing.status_code == 404 and missing.parsed.code == "not_found"
    # a cursor the list did not give
    cases = gen.call("get", "/api/cases").sync_detailed(
        client=gen.client(site.keys["admin"]), cursor="not-a-cursor")
    assert cases.status_code == 422 and cases.parsed.errors[0].field == "cursor"
