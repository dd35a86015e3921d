"""The big screen's figures say their periods: a year still running is left out of the index
panels, a month still running out of the case figures; the district's headline figures carry
unit, period and source; plus the links and the icon every page has."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from citygrowth.auth.actor import system_actor
from citygrowth.index.service import compute_index
from citygrowth.ingest.service import load_observations
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, STREET_B
from tests.screens.conftest import INDICATORS, build_indexed, login

SUMMARY = f"/api/screen/summary?level=street&parent={DISTRICT}"


def _month(today: dt.date, back: int) -> str:
    m = today.year * 12 + today.month - 1 - back
    return f"{m // 12}-{m % 12 + 1:02d}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Settings:
    """The indexed district plus this year's (running) street values, district GDP by quarter
    and the on-time rate of the last two complete months and of the running one."""
    settings = build_indexed(tmp_path_factory.mktemp("figures"), sqlite_template)
    today = dt.date.today()
    rows = [(code, street, str(today.year), float(v[-1]) * 3)
            for code, by_street in INDICATORS.items() for street, v in by_street.items()]
    rows += [("ECO_GDP", DISTRICT, f"{y}-Q{q}", 100.0) for y in (today.year - 2, today.year - 1)
             for q in (1, 2, 3, 4)]
    rows += [("GOV_CASE_ONTIME_RATE", DISTRICT, _month(today, b), v)
             for b, v in ((2, 91.0), (1, 92.5), (0, 41.0))]
    runtime = build_runtime(settings)
    with runtime.session() as s:
        frame = pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value"])
        load_observations(s, runtime, system_actor("test"), frame, source="test")
    with runtime.session() as s:
        compute_index(s, runtime, system_actor("test"), levels=("district", "street"))
    runtime.dispose()
    return settings


@pytest.fixture(scope="module")
def leader(world: Settings) -> Iterator[TestClient]:
    from citygrowth.app import create_app

    with TestClient(create_app(world)) as c:
        login(c, "leader")
        yield c


def test_a_running_year_is_left_out_of_the_index_panels(leader: TestClient) -> None:
    d = leader.get(SUMMARY).json()
    this_year = str(dt.date.today().year)
    assert d["period"] == str(int(this_year) - 1) and this_year not in d["trend"]["periods"]
    assert d["headline"]["period"] == d["period"]
    assert d["period_text"] == f"{d['period']}年"
    assert [s["name"] for s in d["radar"]["series"]] == [f"{int(d['period']) - 1}年",
                                                         f"{d['period']}年"]
    assert d["ranking_codes"][-1] == max(d["map_items"], key=lambda i: i["value"])["code"]
    for i in d["map_items"]:  # map labels: the name without 街道 / Subdistrict
        assert i["short"] and i["name"].startswith(i["short"]) and not i["short"].endswith("街道")


def test_headline_figures_say_unit_period_and_source(leader: TestClient) -> None:
    d = leader.get(SUMMARY).json()
    gdp = next(k for k in d["key_figures"] if k["code"] == "ECO_GDP")
    last = dt.date.today().year - 1
    assert gdp["display"] == "400" and gdp["unit"] == "亿元"  # four quarters of 100
    assert gdp["period_text"] == f"{last}年" and gdp["source"] == "区统计局"
    assert gdp["change_text"] == "比上年同期0%"


def test_case_figures_compare_a_whole_month_with_its_target(leader: TestClient) -> None:
    d = leader.get(SUMMARY).json()
    ontime = next(c for c in d["cases"] if c["code"] == "GOV_CASE_ONTIME_RATE")
    today = dt.date.today()
    assert ontime["period"] == _month(today, 1) and ontime["value"] == 92.5  # not 41
    assert ontime["target_text"] == "目标95%" and "status" not in ontime  # no target follows it
    assert d["cases_period"] == ontime["period_text"]
    en = leader.get(SUMMARY + "&lang=en").json()
    assert next(c for c in en["cases"] if c["code"] == "GOV_CASE_ONTIME_RATE")[
        "change_text"] == "+1.5 pp on " + ontime_period_en(today)


def ontime_period_en(today: dt.date) -> str:
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")
    m = today.year * 12 + today.month - 1 - 2
    return f"{months[m % 12]} {m // 12}"


def test_profile_is_linked_and_the_icon_is_served(leader: TestClient) -> None:
    areas = leader.get("/areas?level=street").text
    assert f'href="/profile/{STREET_A}"' in areas and f'href="/profile/{STREET_B}"' in areas
    assert f'href="/profile/{STREET_A}"' in leader.get(f"/areas/{STREET_A}").text
    screen = leader.get("/screen").text
    assert f'href="/profile/{DISTRICT}"' in screen and 'rel="icon"' in screen
    icon = leader.get("/favicon.ico")
    assert icon.status_code == 200 and icon.content[:4] == b"\x00\x00\x01\x00"
    assert 'href="/static/favicon.svg"' in leader.get("/areas").text
    profile = leader.get(f"/api/profile/{STREET_A}").json()
    assert profile["period"] == str(dt.date.today().year - 1)  # the running year left out


def test_the_explorer_names_its_source_without_a_file_path(leader: TestClient) -> None:
    d = leader.get(f"/api/explore/series?indicator=SOC_SCHOOLS_BUILT&areas={DISTRICT}").json()
    assert "《五大力量汇成城市生长力》" in d["indicator"]["citation"]
    assert "seed/" not in d["indicator"]["citation"] and ".txt" not in d["indicator"]["citation"]


def test_a_resident_gets_no_profile_links(world: Settings) -> None:
    from citygrowth.app import create_app

    with TestClient(create_app(world)) as c:
        login(c, "resident")
        page = c.get("/areas?level=street")
        assert page.status_code == 200 and "/profile/" not in page.text
