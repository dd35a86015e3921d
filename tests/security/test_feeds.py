"""Scoped feeds, tested as the attack: a subscriber of one street or department listens to the
whole app's event stream while the other street and department work — and gets 0 of their
events; the big screen's case feed and the anomaly review likewise; Open311's lists and
updates give a street's key only its street."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.analysis import service as analysis
from citygrowth.analysis.models import AnomalyRecord
from citygrowth.areas.models import Area
from citygrowth.areas.tree import AreaTree
from citygrowth.auth.actor import Actor, Grant, system_actor
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.errors import Forbidden, NotFound
from citygrowth.governance.lifecycle import transition
from citygrowth.ingest.service import load_observations
from citygrowth.runtime import Runtime
from citygrowth.screens.summary import case_feed
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, STREET_B, TEST_AUDIT, make_areas, make_department
from tests.governance.conftest import POS_A, POS_B, build_world, seed_store
from tests.serve import serve_app

LISTENERS = ("cmd_a", "cmd_b", "urban", "market")


@dataclass
class Listener:
    name: str
    events: list[dict[str, Any]] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)


def _listen(base: str, key: str, who: Listener, stop: threading.Event) -> None:
    """Collect the stream's events until ``stop`` (keep-alives arrive every 15 s)."""
    try:
        with httpx.Client(timeout=httpx.Timeout(5, read=30)) as c, c.stream(
                "GET", f"{base}/api/events", headers={"X-API-Key": key}) as r:
            assert r.status_code == 200, r.read()
            topic = None
            for line in r.iter_lines():
                if line.startswith(": connected"):
                    who.ready.set()
                elif line.startswith("event: "):
                    topic = line[7:]
                elif line.startswith("data: "):
                    who.events.append({"topic": topic, **json.loads(line[6:])})
                if stop.is_set():
                    return
    except httpx.HTTPError:
        if not stop.is_set():  # the server stopping at the end of the test ends the stream
            raise


@pytest.fixture
def live(settings: Settings) -> Iterator[tuple[str, dict[str, str]]]:
    engine = make_engine(settings.resolved_database_url)
    keys = seed_store(make_sessionmaker(engine, TEST_AUDIT))
    engine.dispose()
    with serve_app(settings, log_level="error") as url:
        yield url, keys


def _rows(street: str) -> list[dict[str, Any]]:
    """The urban department's case indicators for one street's grid cells."""
    grids = [f"{street}{c:03d}{g:03d}" for c in (1, 2) for g in (1, 2)]
    return [{"indicator": "GOV_CASES_DUE", "area_code": a, "period": "2025-06", "value": 7}
            for a in grids]


def test_event_stream_gives_each_subscriber_only_its_street_and_department(
        live: tuple[str, dict[str, str]]) -> None:
    base, keys = live
    stop = threading.Event()
    listeners = {n: Listener(n) for n in LISTENERS}
    threads = [threading.Thread(target=_listen, args=(base, keys[n], listeners[n], stop),
                                daemon=True) for n in LISTENERS]
    for t in threads:
        t.start()
    assert all(w.ready.wait(20) for w in listeners.values())
    admin = {"X-API-Key": keys["admin"]}
    with httpx.Client(base_url=base, timeout=30, headers=admin) as c:
        ids = {}
        for street, pos, dept in (("a", POS_A, "urban"), ("b", POS_B, "market")):
            r = c.post("/api/cases", json={"category_code": "E0101", "lon": pos[0],
                                           "lat": pos[1], "description": f"case {street}"})
            assert r.status_code == 201, r.text
            ids[street] = r.json()["id"]
            for action, body in (("register", {}), ("dispatch", {"department_code": dept})):
                r = c.post(f"/api/cases/{ids[street]}/actions/{action}", json=body)
                assert r.status_code == 200, r.text
        # the urban department loads street A's figures
        r = c.post("/api/ingest/urban", json=_rows(STREET_A), headers={"X-API-Key": keys["urban"]})
        assert r.status_code == 200, r.text
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (
            len(listeners["cmd_a"].events) < 4 or len(listeners["market"].events) < 1):
        time.sleep(0.1)
    time.sleep(0.5)  # anything foreign that was going to arrive has arrived
    stop.set()

    def topics(who: str) -> list[tuple[str, str]]:
        return [(e["topic"], e["payload"].get("area_code") or ",".join(
            e["payload"].get("area_codes", []))) for e in listeners[who].events]

    # each got its own — so the filter is not simply "nothing"
    assert [t for t, _ in topics("cmd_a")].count("case.changed") == 3
    assert ("observations.loaded" in [t for t, _ in topics("cmd_a")])
    assert [t for t, _ in topics("cmd_b")] == ["case.changed"] * 3
    urban = listeners["urban"].events
    assert [(e["topic"], e["payload"].get("case_id")) for e in urban] == [
        ("case.changed", ids["a"]), ("observations.loaded", None)]
    market = listeners["market"].events
    assert [(e["topic"], e["payload"].get("case_id")) for e in market] == [
        ("case.changed", ids["b"])]
    # and 0 foreign events
    for e in listeners["cmd_a"].events:
        p = e["payload"]
        assert all(a.startswith(STREET_A) for a in [p.get("area_code") or STREET_A,
                                                     *p.get("area_codes", [])])
    for e in listeners["cmd_b"].events:
        assert e["payload"]["area_code"].startswith(STREET_B)
    assert all(e["payload"]["department_code"] == "urban" for e in urban)
    assert all(e["payload"]["department_code"] == "market" for e in market)


def test_a_load_across_streets_is_cut_to_the_readers_street(
        live: tuple[str, dict[str, str]]) -> None:
    base, keys = live
    stop = threading.Event()
    who = Listener("cmd_b")
    t = threading.Thread(target=_listen, args=(base, keys["cmd_b"], who, stop), daemon=True)
    t.start()
    assert who.ready.wait(20)
    r = httpx.post(f"{base}/api/ingest/urban", json=_rows(STREET_A) + _rows(STREET_B),
                   headers={"X-API-Key": keys["urban"]}, timeout=30)
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not who.events:
        time.sleep(0.1)
    stop.set()
    assert [e["topic"] for e in who.events] == ["observations.loaded"]
    areas = who.events[0]["payload"]["area_codes"]
    assert areas and all(a.startswith(STREET_B) for a in areas)


def test_an_anonymous_reader_is_refused(client: TestClient) -> None:
    r = client.get("/api/events")
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"


# --- the big screen's case feed -----------------------------------------------------------------

def test_big_screen_feed_shows_officers_only_their_departments_cases(
        sqlite_session: Session) -> None:
    w = build_world(sqlite_session)
    ids = {}
    for name, pos, dept in (("a_urban", POS_A, "urban"), ("b_market", POS_B, "market"),
                            ("a_market", POS_A, "market")):
        case = w.report(pos, actor=w.system, description=name)
        transition(sqlite_session, w.system, case, "register", runtime=w.runtime)
        transition(sqlite_session, w.system, case, "dispatch", runtime=w.runtime,
                   department_code=dept)
        ids[name] = case.id
    sqlite_session.flush()
    tree = AreaTree.from_areas(sqlite_session.scalars(select(Area)))
    tz = w.runtime.tz

    def feed(who: str) -> set[int]:
        return {r["case_id"] for r in case_feed(sqlite_session, w.actors[who], DISTRICT, tree,
                                                tz)}

    assert feed("urban") == {ids["a_urban"]}
    assert feed("market") == {ids["b_market"], ids["a_market"]}
    assert feed("cmd_b") == {ids["b_market"]}
    assert feed("admin") == set(ids.values())


# --- anomaly review --------------------------------------------------------------------------

def test_an_officer_cannot_see_or_decide_another_departments_warnings(
        sqlite_session: Session, runtime: Runtime) -> None:
    make_areas(sqlite_session)
    for d in ("urban", "market"):
        make_department(sqlite_session, d, d, d)
    fw = runtime.frameworks.load()
    by_dept = {"urban": "GOV_CASES_DUE", "market": "IND_NEW_ENTITIES"}  # monthly, both
    assert {fw.indicator_map()[c].department for c in by_dept.values()} == set(by_dept)
    records = {}
    for dept in ("urban", "market"):
        frame = pd.DataFrame([{"indicator": by_dept[dept], "area_code": STREET_A + "001",
                               "period": "2025-06", "value": 1.0}])
        officer = Actor(100, dept, (Grant("department_officer", DISTRICT, dept),))
        res = load_observations(sqlite_session, runtime, system_actor("t"), frame,
                                source="t")
        rec = AnomalyRecord(load_id=res.load_id, key=f"k-{dept}", kind="jump",
                            indicator=by_dept[dept], area_code=STREET_A + "001001",
                            period="2025-06", value=1.0, expected=2.0, severity=1.0,
                            message="m", params={}, decision="pending", note="")
        sqlite_session.add(rec)
        sqlite_session.flush()
        records[dept] = (res.load_id, rec.id, officer)
    sqlite_session.commit()
    urban_load, urban_rec, urban = records["urban"]
    market_load, market_rec, _market = records["market"]
    # the review list and page: only the officer's own department's loads
    listed = {r["load_id"] for r in analysis.loads_with_warnings(sqlite_session, urban, fw)}
    assert listed == {urban_load}
    assert [r.id for r in analysis.anomalies_for_load(sqlite_session, urban, runtime,
                                                      urban_load)] == [urban_rec]
    with pytest.raises(NotFound):
        analysis.anomalies_for_load(sqlite_session, urban, runtime, market_load)
    # the decision: refused on the other department's load, nothing changed
    with pytest.raises(Forbidden):
        analysis.decide_anomaly(sqlite_session, urban, market_rec, "accepted", framework=fw)
    assert sqlite_session.get(AnomalyRecord, market_rec).decision == "pending"
    done = analysis.decide_anomaly(sqlite_session, urban, urban_rec, "accepted", framework=fw)
    assert done.decision == "accepted"


# --- Open311 ------------------------------------------------------------------------------------

def test_open311_lists_and_updates_give_a_street_key_only_its_street(
        client: TestClient, settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url)
    keys = seed_store(make_sessionmaker(engine, TEST_AUDIT))
    engine.dispose()
    admin = {"X-API-Key": keys["admin"]}
    made = {}
    for street, pos in (("a", POS_A), ("b", POS_B)):
        for i in range(3):
            r = client.post("/api/cases", headers=admin, json={
                "category_code": "E0101", "lon": pos[0], "lat": pos[1],
                "description": f"street {street} #{i}"})
            assert r.status_code == 201, r.text
            made.setdefault(street, set()).add(str(r.json()["id"]))
            client.post(f"/api/cases/{r.json()['id']}/actions/register", headers=admin, json={})
    key_a = keys["cmd_a"]
    listed = client.get("/open311/v2/requests.json", params={"api_key": key_a})
    assert listed.status_code == 200, listed.text
    ids = {str(x["service_request_id"]) for x in listed.json()}
    assert ids == made["a"]
    updates = client.get("/open311/v2/servicerequestupdates.json", params={"api_key": key_a})
    assert updates.status_code == 200, updates.text
    seen = {str(u["service_request_id"]) for u in updates.json()}
    assert seen and seen <= made["a"]
    for foreign in made["b"]:
        one = client.get(f"/open311/v2/requests/{foreign}.json", params={"api_key": key_a})
        assert "street b" not in one.text
