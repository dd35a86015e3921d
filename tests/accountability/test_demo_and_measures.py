"""The demo's totals (119 projects, exactly 1530 亿元) and the measures in the observation store."""

from __future__ import annotations

import datetime as dt
import importlib.util
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citygrowth.accountability import approvals, projects, targets
from citygrowth.accountability.demo import seed_demo
from citygrowth.accountability.measures import build_measures, publish_measures
from citygrowth.accountability.models import Lead, Project
from citygrowth.auth.actor import system_actor
from citygrowth.runtime import Runtime
from tests.accountability.conftest import school_target, setup_district
from tests.conftest import needs
from tests.factories import DISTRICT, STREET_A, STREET_B

TODAY = dt.date(2026, 11, 26)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_demo_totals_story_and_measures(session: Session) -> None:
    setup_district(session)
    result = seed_demo(session, system_actor("demo"), DISTRICT, TODAY, SHANGHAI)
    assert result["projects"] == 119
    # 119 projects, exactly 1530 亿元, the three leading industries the largest
    assert session.scalar(select(func.sum(Project.total_wan))) == 1530 * 10_000
    pf = projects.portfolio(session, system_actor())
    assert (pf["count"], pf["total_yi"], pf["illustrative"]) == (119, 1530.0, True)
    assert {r["industry"] for r in pf["by_industry"][:3]} == \
        {"blue_economy", "sci_tech", "big_data"}
    assert {p.area_code for p in session.scalars(select(Project))} == {STREET_A, STREET_B}
    # approvals: ~20 working days in 2019, 1 since 2025, nearly 100 this year, one overdue
    stats = approvals.approval_stats(session, system_actor(), TODAY, "Asia/Shanghai")
    by_year = {y["year"]: y for y in stats["by_year"]}
    assert 18 <= by_year[2019]["median_days"] <= 22
    assert by_year[2025]["median_days"] == 1 and by_year[2026]["median_days"] == 1
    assert 90 <= stats["this_year"]["count"] < 100
    assert [o["code"] for o in stats["overdue"]] == ["AP-2026-P003"]
    # the seed's plans as targets, with all three colours
    rows = {r["code"]: r for r in targets.list_targets(session, system_actor(), TODAY)}
    assert {"T-SCHOOLS", "T-MOVEBACK", "T-RESETTLE", "T-PARKING", "T-ROADS", "T-CHOKE",
            "T-DOCTOR", "T-COMPOUNDS", "T-ILLEGAL", "T-SHANTY"} <= set(rows)
    assert (rows["T-SCHOOLS"]["latest_value"], rows["T-SCHOOLS"]["target_value"]) == (6, 20)
    assert {r["status"] for r in rows.values()} == {"green", "amber", "red"}
    assert {x.source_department_code for x in session.scalars(select(Lead))} == \
        {"science", "industry", "invest"}
    # the measures
    frame = build_measures(session, DISTRICT, TODAY, "Asia/Shanghai")
    assert set(frame["indicator"]) == {"GOV_APPROVAL_DAYS", "GOV_TARGETS_ON_TRACK",
                                       "ECO_KEY_PROJECT_INVEST", "IND_INVEST_LEADS_LANDED"}
    assert frame["period"].max() == "2026-11"
    days = frame[(frame.indicator == "GOV_APPROVAL_DAYS") & (frame.area_code == DISTRICT)]
    first, last = days.iloc[0], days.iloc[-1]
    assert first.period.startswith("2019-") and first.value > 15 and last.value == 1.0
    streets = set(frame[frame.indicator == "ECO_KEY_PROJECT_INVEST"].area_code)
    assert streets == {DISTRICT, STREET_A, STREET_B}
    # a second run changes nothing
    assert seed_demo(session, system_actor("demo"), DISTRICT, TODAY, SHANGHAI) == \
        {"created": False}
    assert session.scalar(select(func.count()).select_from(Project)) == 119


@pytest.fixture
def sqlite_url(seeded_sqlite_url: str) -> str:
    """The ``settings`` of this module point at the seeded demo store."""
    return seeded_sqlite_url


# ibis 12 calls DuckDB and pandas APIs that they deprecate (third-party warnings, not ours)
@pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")
def test_measures_arrive_in_the_observation_store(runtime: Runtime) -> None:
    settings = runtime.settings
    needs("observation store", importlib.util.find_spec("citygrowth.observatory.store")
          is not None and importlib.util.find_spec("citygrowth.ingest.service") is not None)
    from citygrowth.observatory.store import ObservationStore

    bus = runtime.bus
    with runtime.session() as s:
        counts = publish_measures(s, runtime, system_actor(), runtime.today())
    assert all(n > 0 for n in counts.values())
    got = ObservationStore(settings).query(indicators=["GOV_APPROVAL_DAYS",
                                                       "ECO_KEY_PROJECT_INVEST"])
    district = got[(got.indicator == "GOV_APPROVAL_DAYS") & (got.area_code == DISTRICT)]
    assert len(district) > 80
    assert float(district.iloc[-1]["value"]) == 1.0
    invest = got[(got.indicator == "ECO_KEY_PROJECT_INVEST") & (got.area_code == DISTRICT)]
    assert invest["value"].sum() > 0
    assert [e.topic for e in bus.recent] == ["observations.loaded"]


def test_reminder_job_announces_milestones_on_the_bus(runtime: Runtime) -> None:
    from citygrowth.accountability.jobs import reminders_job

    with runtime.session() as s:
        soon = runtime.today() + dt.timedelta(days=3)
        school_target(s, code="T-SOON", deadline=soon + dt.timedelta(days=400),
                      milestones=[{"due_date": soon, "planned_value": 12, "title_zh": "节点"}])
    bus = runtime.bus
    by_dept = reminders_job(runtime)
    assert by_dept["housing"][0]["target_code"] in {m["target_code"] for m in by_dept["education"]}
    payload = next(e.payload for e in bus.recent if e.payload["code"] == "T-SOON")
    assert bus.recent[0].topic == "target.changed" and payload["kind"] == "milestone.reminder"
    assert payload["departments"] == ["education", "housing"] and payload["overdue"] is False
