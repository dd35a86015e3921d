"""``POST /api/cases`` through the fast path answers exactly as the FastAPI route does.

Two apps on one store (SQLite and PostgreSQL): one as shipped (the fast path serves well-formed
reports), one with ``CITYGROWTH_CASES_FAST_PATH=false`` (the route serves everything). The same
requests go to both and must get the same status, headers that matter and body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from citygrowth.auth.models import User
from citygrowth.governance import fastpath, intake_http
from citygrowth.governance.models import Case, CaseEvent
from citygrowth.i18n import translate
from citygrowth.settings import Settings
from tests.factories import DISTRICT, TEST_AUDIT
from tests.governance.conftest import GRID_A, POS_A, POS_B, seed_store
from tests.web.login import login

PASSWORD = "patrol-pass-1"
REPORT = {"category_code": "E0101", "lat": POS_A[1], "lon": POS_A[0], "description": "垃圾"}


@dataclass
class Twins:
    fast: TestClient
    route: TestClient
    keys: dict[str, str]
    factory: Any

    def both(self) -> tuple[tuple[str, TestClient], ...]:
        return (("fast", self.fast), ("route", self.route))


@pytest.fixture
def twins(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Twins]:
    from citygrowth.app import create_app
    from citygrowth.db import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    factory = make_sessionmaker(engine, TEST_AUDIT)
    keys = seed_store(factory, PASSWORD)
    settings = Settings(data_dir=tmp_path / "var", database_url=db_url, env="test",
                        secret_key="test-secret", scheduler_enabled=False)
    # two apps in one process: each keeps its own settings (no cache to clear between them)
    without = settings.model_copy(update={"cases_fast_path": False})
    with TestClient(create_app(settings)) as fast, TestClient(create_app(without)) as route:
        yield Twins(fast, route, keys, factory)
    engine.dispose()


def _comparable(r: httpx.Response) -> tuple[int, str, Any]:
    body = r.json()
    if body.get("ok"):
        body = {k: v for k, v in body.items() if k not in ("id", "token")}
    return r.status_code, r.headers["content-type"], body


BAD_BODIES: list[tuple[str, dict[str, str], bytes]] = [
    ("json syntax", {"Content-Type": "application/json"}, b'{"category_code": '),
    ("empty body", {"Content-Type": "application/json"}, b""),
    ("not an object", {"Content-Type": "application/json"}, b"[1, 2]"),
    ("missing field", {"Content-Type": "application/json"}, b'{"lat": 36.055, "lon": 120.305}'),
    ("latitude out of range", {"Content-Type": "application/json"},
     b'{"category_code": "E0101", "lat": 95, "lon": 120.305}'),
    ("unknown field", {"Content-Type": "application/json"},
     b'{"category_code": "E0101", "lat": 36.055, "lon": 120.305, "colour": "red"}'),
    ("wrong type", {"Content-Type": "application/json"},
     b'{"category_code": "E0101", "lat": "north", "lon": 120.305}'),
    ("bad source", {"Content-Type": "application/json"},
     b'{"category_code": "E0101", "lat": 36.055, "lon": 120.305, "source": "fax"}'),
    ("short body key", {"Content-Type": "application/json"},
     b'{"category_code": "E0101", "lat": 36.055, "lon": 120.305, "idempotency_key": "abc"}'),
    ("long header key", {"Content-Type": "application/json", "Idempotency-Key": "k" * 65},
     b'{"category_code": "E0101", "lat": 36.055, "lon": 120.305}'),
    ("plain text", {"Content-Type": "text/plain"},
     b'{"category_code": "E0101", "lat": 36.055, "lon": 120.305}'),
    ("no content type", {}, b'{"category_code": "E0101", "lat": 36.055, "lon": 120.305}'),
    ("bad utf-8", {"Content-Type": "application/json"}, b'{"category_code": "\xff\xfe"}'),
    ("NaN", {"Content-Type": "application/json"},
     b'{"category_code": "E0101", "lat": NaN, "lon": 120.305}'),
]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_bad_bodies_get_the_routes_errors(twins: Twins, lang: str) -> None:
    for name, headers, content in BAD_BODIES:
        got = {}
        for side, c in twins.both():
            r = c.post("/api/cases", content=content,
                       headers={**headers, "X-API-Key": twins.keys["machine"],
                                "Accept-Language": lang})
            assert r.status_code in (400, 422), (name, side, r.status_code, r.text)
            got[side] = _comparable(r)
        assert got["fast"] == got["route"], name
    r = twins.fast.post("/api/cases", headers={"X-API-Key": twins.keys["machine"],
                                               "Accept-Language": lang},
                        json={"category_code": "E0101", "lat": 95, "lon": 120.305}).json()
    assert r["code"] == "invalid" and [p["field"] for p in r["errors"]] == ["lat"]
    assert r["error"] == translate("The input is not valid.", lang)
    assert (r["error"] != "The input is not valid.") == (lang == "zh-CN")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_refusals_are_the_same(twins: Twins, lang: str) -> None:
    k = twins.keys
    cases: list[tuple[str, dict[str, str], dict[str, Any], int, str]] = [
        ("no credential", {}, REPORT, 401, "unauthenticated"),
        ("bad key", {"X-API-Key": "cg_nope_nope"}, REPORT, 401, "bad_api_key"),
        ("bad bearer", {"Authorization": "Bearer cg_abc_def"}, REPORT, 401, "bad_api_key"),
        ("no permission", {"X-API-Key": k["analyst"]}, REPORT, 403, "forbidden"),
        ("other grid", {"X-API-Key": k["worker_b"]}, REPORT, 403, "forbidden"),
        ("unknown category", {"X-API-Key": k["machine"]},
         {**REPORT, "category_code": "NOPE"}, 422, "invalid"),
        ("a 大类", {"X-API-Key": k["machine"]}, {**REPORT, "category_code": "E01"}, 422,
         "invalid"),
        ("outside the district", {"X-API-Key": k["machine"]},
         {**REPORT, "lat": 10.0, "lon": 10.0}, 422, "outside_district"),
        ("no position", {"X-API-Key": k["machine"]}, {"category_code": "E0101"}, 422,
         "invalid"),
        ("unknown area", {"X-API-Key": k["machine"]},
         {"category_code": "E0101", "area_code": "370203999"}, 422, "invalid"),
    ]
    before = dict(fastpath.stats)
    for name, headers, body, status, code in cases:
        got = {}
        for side, c in twins.both():
            r = c.post("/api/cases", json=body, headers={**headers, "Accept-Language": lang})
            assert (r.status_code, r.json()["code"]) == (status, code), (name, side, r.text)
            got[side] = _comparable(r)
        assert got["fast"] == got["route"], name
        if status == 422:
            assert got["fast"][2]["errors"][0]["field"] in ("category_code", "lat", "area_code")
    # every refusal with a key was tried on the fast path, then answered by the route
    assert fastpath.stats["refused"] - before.get("refused", 0) == len(cases) - 1
    assert fastpath.stats["fast"] - before.get("fast", 0) == 0
    outside = twins.fast.post("/api/cases", json={**REPORT, "lat": 10.0, "lon": 10.0},
                              headers={"X-API-Key": k["machine"], "Accept-Language": lang})
    msg = outside.json()["errors"][0]["message"]
    assert ("网格" in msg) if lang == "zh-CN" else ("grid cell" in msg)


def test_reports_and_replays_alike(twins: Twins) -> None:
    h = {"X-API-Key": twins.keys["worker_a"]}
    before = dict(fastpath.stats)
    seen = {}
    for side, c in twins.both():
        hk = {**h, "Idempotency-Key": f"{side}-key-0001"}
        r1 = c.post("/api/cases", json=REPORT, headers=hk)
        r2 = c.post("/api/cases", json=REPORT, headers=hk)
        body_key = c.post("/api/cases", json={**REPORT, "idempotency_key": f"{side}-body-01"},
                          headers=h)
        body_again = c.post("/api/cases", json={**REPORT, "idempotency_key": f"{side}-body-01"},
                            headers=h)
        assert (r1.status_code, r2.status_code) == (201, 200)
        assert (body_key.status_code, body_again.status_code) == (201, 200)
        assert r1.json()["id"] == r2.json()["id"] and r1.json()["token"] == r2.json()["token"]
        assert body_key.json()["id"] == body_again.json()["id"]
        assert set(r1.json()) == {"ok", "created", "id", "token", "area_code"}
        assert r1.json()["area_code"] == GRID_A
        seen[side] = (_comparable(r1), _comparable(r2))
    assert seen["fast"] == seen["route"]
    assert fastpath.stats["fast"] - before.get("fast", 0) == 4
    # one store: a key used through the route is known to the fast path, and the other way
    again = twins.fast.post("/api/cases", json=REPORT,
                            headers={**h, "Idempotency-Key": "route-key-0001"})
    assert again.status_code == 200
    with twins.factory() as s:
        case = s.get(Case, again.json()["id"])
        user = s.scalar(select(User).where(User.username == "worker_a"))
        assert user is not None and case is not None
        assert case.idempotency_key == f"u{user.id}:route-key-0001"  # scoped by user id
        events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
        assert [e.action for e in events] == ["report"]
        assert s.scalar(select(func.count()).select_from(Case)) == 4


def test_language_query_sets_the_cookie_on_both(twins: Twins) -> None:
    for _side, c in twins.both():
        r = c.post("/api/cases?lang=en", json={**REPORT, "lat": 10.0, "lon": 10.0},
                   headers={"X-API-Key": twins.keys["machine"]})
        assert r.status_code == 422 and "grid cell" in r.json()["errors"][0]["message"]
        assert "citygrowth_lang=en" in r.headers.get("set-cookie", "")
        c.cookies.clear()


def test_session_reports_need_the_csrf_token(twins: Twins) -> None:
    headers = {}
    for side, c in twins.both():
        token = login(c, "worker_a", PASSWORD)
        c.headers.pop("X-CSRF-Token")
        forged = c.post("/api/cases", json=REPORT)
        assert (forged.status_code, forged.json()["code"]) == (403, "csrf"), side
        ok = c.post("/api/cases", json=REPORT, headers={"X-CSRF-Token": token})
        assert ok.status_code == 201, (side, ok.text)
        assert ok.json()["area_code"] == GRID_A
        headers[side] = sorted((k, v) for k, v in ok.headers.items() if k != "content-length")
        elsewhere = c.post("/api/cases", json={**REPORT, "lat": POS_B[1], "lon": POS_B[0]},
                           headers={"X-CSRF-Token": token})
        assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "forbidden"
        c.cookies.clear()
    assert headers["fast"] == headers["route"]  # e.g. the session middleware's Vary: Cookie
    with twins.factory() as s:
        reporters = s.scalars(select(Case.reporter_user_id)).all()
        worker = s.scalar(select(User.id).where(User.username == "worker_a"))
        assert reporters == [worker, worker]


def test_a_revoked_key_or_disabled_user_stops_at_once(twins: Twins) -> None:
    """The intake remembers actors for 10 s, but the writer re-checks the credential in the
    transaction that writes: revoking a key (even from another process) refuses the next
    report, and the remembered actor is forgotten."""
    from citygrowth.auth.actor import Actor, Grant
    from citygrowth.auth.models import ApiKey
    from citygrowth.auth.service import revoke_api_key

    admin = Actor(user_id=None, username="root", grants=(Grant("district_admin", DISTRICT),))
    for side, c in twins.both():
        key = twins.keys["machine"] if side == "fast" else twins.keys["cmd_a"]
        h = {"X-API-Key": key}
        assert c.post("/api/cases", json=REPORT, headers=h).status_code == 201
        cache = intake_http.actors_for(c.app)
        assert cache.entries  # the actor is remembered
        prefix = key.split("_")[1]
        with twins.factory() as s:
            key_id = s.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix))
            assert key_id is not None
            revoke_api_key(s, admin, key_id)
            s.commit()
        r = c.post("/api/cases", json=REPORT, headers=h)
        assert (r.status_code, r.json()["code"]) == (401, "bad_api_key"), side
        assert cache.cache_key(key, None) not in cache.entries
        assert c.post("/api/cases", json=REPORT, headers=h).status_code == 401
    # a disabled user: their key stops too
    h = {"X-API-Key": twins.keys["worker_a"]}
    assert twins.fast.post("/api/cases", json=REPORT, headers=h).status_code == 201
    with twins.factory() as s:
        user = s.scalar(select(User).where(User.username == "worker_a"))
        assert user is not None
        user.active = False
        s.commit()
    r = twins.fast.post("/api/cases", json=REPORT, headers=h)
    assert (r.status_code, r.json()["code"]) == (401, "bad_api_key")


def test_concurrent_reports_are_each_stored_once(twins: Twins) -> None:
    """A burst through the fast path: distinct keys make one case each, one key sent ten
    times at once makes one case that every answer names."""
    app = twins.fast.app
    h = {"X-API-Key": twins.keys["machine"]}

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            posts = [client.post("/api/cases", json=REPORT,
                                 headers={**h, "Idempotency-Key": f"burst-key-{i:04d}"})
                     for i in range(40)]
            posts += [client.post("/api/cases", json=REPORT,
                                  headers={**h, "Idempotency-Key": "burst-same-key"})
                      for _ in range(10)]
            return list(await asyncio.gather(*posts))

    answers = asyncio.run(burst())
    assert all(r.status_code == 201 for r in answers[:40])
    same = answers[40:]
    assert sorted(r.status_code for r in same) == [200] * 9 + [201]
    assert len({r.json()["id"] for r in same}) == 1
    with twins.factory() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 41
        assert s.scalar(select(func.count()).select_from(CaseEvent)) == 41
        assert s.scalar(select(func.count(func.distinct(Case.idempotency_key)))) == 41


def test_the_route_stays_documented(twins: Twins) -> None:
    spec = twins.fast.get("/openapi.json").json()
    post = spec["paths"]["/api/cases"]["post"]
    assert post["summary"].startswith("Report a case")
    assert "ReportIn" in str(post["requestBody"])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header"
               for p in post["parameters"])
    assert "201" in post["responses"]


def test_the_keys_last_use_is_recorded_with_the_report(twins: Twins) -> None:
    from citygrowth.auth.models import ApiKey

    for side, c in twins.both():
        key = twins.keys["machine"] if side == "fast" else twins.keys["cmd_a"]
        prefix = key.split("_")[1]
        with twins.factory() as s:
            assert s.scalar(select(ApiKey.last_used_at).where(ApiKey.prefix == prefix)) is None
        assert c.post("/api/cases", json=REPORT, headers={"X-API-Key": key}).status_code == 201
        with twins.factory() as s:
            used = s.scalar(select(ApiKey.last_used_at).where(ApiKey.prefix == prefix))
            reported = s.scalar(select(func.max(Case.reported_at)))
        assert used is not None and used == reported


@pytest.mark.parametrize("created", [True, False])
@pytest.mark.parametrize("area", ["370203001001001", "网格\"1\"\\"])
def test_the_answer_is_rendered_as_the_route_renders_it(created: bool, area: str) -> None:
    import json

    from citygrowth.governance.writer import Ack

    ack = Ack(2**31 - 1, "AbC-_9xyz012", area, created)
    answer = {"ok": True, "created": ack.created, "id": ack.id, "token": ack.token,
              "area_code": ack.area_code}
    assert intake_http.answer_bytes(ack) == json.dumps(
        answer, ensure_ascii=False, allow_nan=False, indent=None,
        separators=(",", ":")).encode("utf-8")
