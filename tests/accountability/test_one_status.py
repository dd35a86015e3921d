"""Every surface shows the same status for the same target: the target page, the department
view, the JSON API, the analysis odds, the big screen's targets and the briefing's data — all
from ``accountability.status.target_status``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from citygrowth.accountability.models import ProgressReport, Target
from citygrowth.accountability.schemas import TargetIn
from citygrowth.accountability.status import target_status
from citygrowth.accountability.targets import apply_target
from citygrowth.analysis.briefing.gather import target_rows
from citygrowth.auth.actor import system_actor
from citygrowth.db import make_engine, make_sessionmaker
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.accountability.conftest import DEPTS
from tests.factories import DISTRICT, TEST_AUDIT, make_department
from tests.factories import local_today as today_local
from tests.screens.conftest import build_indexed, login

CODES = ("T-CHOKE", "T-DOCTOR", "T-SHANTY", "T-SLOW")


def _targets(today: dt.date) -> list[tuple[TargetIn, list[tuple[dt.date, float]]]]:
    """The issue's three targets (and one far behind), placed around today."""
    start = today - dt.timedelta(days=338)
    choke = [(start + dt.timedelta(days=24 + 30 * i), float(v))
             for i, v in enumerate([1, 2, 3, 5, 6, 7, 9, 10, 11, 12, 14])] + [(today, 22.0)]
    doctor = [(start + dt.timedelta(days=30 * i), v)
              for i, v in enumerate([61.0, 61.4, 61.2, 61.9, 61.5, 62.0, 61.8], start=1)]
    shanty = [(start + dt.timedelta(days=30 * i), 49000.0 - 900 * i) for i in range(1, 11)]
    slow = [(start + dt.timedelta(days=60 * i), 2.0 * i) for i in range(1, 5)]
    common = {"area_code": DISTRICT, "start_date": start,
              "deadline": start + dt.timedelta(days=364)}
    return [
        (TargetIn(code="T-CHOKE", name_zh="打通交通堵点23处", department_code="urban",
                  target_value=23, unit_zh="处", **common), choke),
        (TargetIn(code="T-DOCTOR", name_zh="重点人群家庭医生签约覆盖率保持60%以上",
                  department_code="health", co_owners=["civil"], baseline=60.6,
                  target_value=60, kind="hold_above", unit_zh="%",
                  indicator_code="SOC_FAMILY_DOCTOR", **common), doctor),
        (TargetIn(code="T-SHANTY", name_zh="棚户区4.9万户待改造居民清零",
                  department_code="housing", baseline=49000, target_value=0, unit_zh="户",
                  **common | {"deadline": start + dt.timedelta(days=5 * 365)}), shanty),
        (TargetIn(code="T-SLOW", name_zh="慢目标", department_code="urban", target_value=100,
                  **common), slow),
    ]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory,
          sqlite_template: Path) -> tuple[Settings, dt.date, dict[str, int]]:
    settings = build_indexed(tmp_path_factory.mktemp("one-status"), sqlite_template)
    today = today_local(settings.timezone)
    engine = make_engine(settings.resolved_database_url)
    ids = {}
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        for code, zh in DEPTS:
            make_department(s, code, zh, code.title())
        for data, reports in _targets(today):
            t = apply_target(s, data)
            t.reports = [ProgressReport(reported_on=d, value=v, reported_by="test")
                         for d, v in reports]
            ids[data.code] = t.id
        s.commit()
    from citygrowth.ingest.service import load_observations

    frame = pd.DataFrame([("SOC_FAMILY_DOCTOR", DISTRICT, f"{today.year}-Q1", 61.3)],
                         columns=["indicator", "area_code", "period", "value"])
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        load_observations(s, build_runtime(settings), system_actor("test"), frame, source="test")
        s.commit()
    engine.dispose()
    return settings, today, ids


@pytest.fixture(scope="module")
def leader(world: tuple[Settings, dt.date, dict[str, int]]) -> Iterator[TestClient]:
    from citygrowth.app import create_app

    with TestClient(create_app(world[0])) as c:
        login(c, "leader")
        yield c


def _badge(html: str) -> str:
    found = re.search(r'data-status="(green|amber|red)"', html)
    assert found, "a status badge"
    return found.group(1)


def _row_status(html: str, code: str) -> str:
    row = re.search(rf'<tr data-code="{code}">(.*?)</tr>', html, re.S)
    assert row, f"{code} is listed"
    return _badge(row.group(1))


def test_every_surface_shows_the_same_status(
        leader: TestClient, world: tuple[Settings, dt.date, dict[str, int]]) -> None:
    settings, today, ids = world
    engine = make_engine(settings.resolved_database_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        targets = {t.code: t for t in s.query(Target)}
        expected = {c: target_status(targets[c], today) for c in CODES}
        briefing = {row.code: row for row in target_rows(s, DISTRICT, today)}
    engine.dispose()
    # the cases, by the one rule
    assert expected["T-CHOKE"].status == "green" and expected["T-CHOKE"].probability > 0.8
    assert expected["T-DOCTOR"].status == "green" and expected["T-DOCTOR"].actual == 1.0
    assert expected["T-SHANTY"].direction == "down" and expected["T-SHANTY"].status == "green"
    assert expected["T-SLOW"].status == "red"

    listing = leader.get("/api/accountability/targets").json()["items"]
    by_code = {r["code"]: r for r in listing}
    screen = leader.get("/api/screen/summary",
                        params={"level": "street", "parent": DISTRICT}).json()
    on_screen = {t["code"]: t for t in screen["targets"]}
    for code in CODES:
        st = expected[code]
        page = leader.get(f"/targets/{ids[code]}").text
        dept = targets[code].department_code
        view = leader.get(f"/accountability/departments/{dept}").text
        one = leader.get(f"/api/accountability/targets/{ids[code]}").json()
        odds = leader.get("/api/analysis/odds", params={"target": code}).json()
        seen = {"target page": _badge(page.split("<h1>", 1)[1]),
                "department view": _row_status(view, code),
                "targets list": _row_status(leader.get("/targets").text, code),
                "JSON list": by_code[code]["status"], "JSON target": one["status"],
                "analysis odds": odds["status"], "briefing data": briefing[code].status,
                "big screen": on_screen[code]["status"]}
        assert set(seen.values()) == {st.status}, (code, seen)
        assert one["probability"] == by_code[code]["probability"] == odds["odds"] \
            == st.probability
        assert briefing[code].odds == st.probability
    # the big screen counts the targets by the same statuses
    counts = screen["target_counts"]
    assert counts["red"] == sum(1 for t in on_screen.values() if t["status"] == "red")


def test_falling_target_is_written_as_people_write_it(
        leader: TestClient, world: tuple[Settings, dt.date, dict[str, int]]) -> None:
    page = leader.get(f"/targets/{world[2]['T-SHANTY']}").text
    assert "49,000 → 0 户" in page and "0.0" not in page.split("<h1>", 1)[1].split("</h1>")[0]
    assert "40,000 户" in page  # the latest report, a whole number
