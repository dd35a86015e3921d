"""Pulling from a remote SDMX 2.1 service (our own server on loopback) as an ingest load."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd
import pytest
from click.testing import CliRunner

from citygrowth.auth.actor import Actor, Grant, system_actor
from citygrowth.cli.context import CliContext
from citygrowth.errors import CityGrowthError, Forbidden
from citygrowth.exchange.cli import exchange
from citygrowth.exchange.sdmx.pull import Mapping, PullRequest, pull_sdmx
from citygrowth.i18n import locale_context
from citygrowth.observatory.store import ObservationStore
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.conftest import DATA
from tests.exchange.conftest import GDP, World, make_settings, seed_areas
from tests.factories import DISTRICT

HERE = DATA / "exchange"


@pytest.fixture
def target(tmp_path: Path, sqlite_template: Path) -> Settings:
    """A second installation with the same areas and no observations."""
    settings = make_settings(tmp_path / "target", sqlite_template)
    seed_areas(settings)
    return settings


def pull(settings: Settings, req: PullRequest, actor: Actor | None = None,
         client: httpx.Client | None = None):  # type: ignore[no-untyped-def]
    runtime = build_runtime(settings)
    try:
        with runtime.session() as s:
            return pull_sdmx(s, runtime, actor or system_actor("test"), req, client=client)
    finally:
        runtime.dispose()


def stored(settings: Settings) -> pd.DataFrame:
    return ObservationStore(settings).query()


def test_pull_loads_what_the_remote_serves(world: World, target: Settings) -> None:
    req = PullRequest(f"{world.base_url}/sdmx", "CGI", "Q.ECO_GDP.", api_key=world.machine_key)
    result = pull(target, req)
    assert result.rows == 12 and result.indicators == ["ECO_GDP"]
    got = stored(target)
    assert sorted(zip(got["area_code"], got["period"], got["value"], strict=True)) == sorted(
        (area, f"2024-Q{q}", v) for area, vals in GDP.items() for q, v in enumerate(vals, 1))
    assert set(got["unit"]) == {"亿元"}


def test_pull_with_periods_and_a_mapping_file(world: World, target: Settings) -> None:
    req = PullRequest(f"{world.base_url}/sdmx", "CN_370203,CGI,1.0", "M.ECO_RETAIL_SALES.",
                      start="2024-03", end="2024-05",
                      mapping=Mapping.read(HERE / "pull_mapping.yaml"),
                      api_key=world.machine_key)
    result = pull(target, req)
    assert result.dataset == "finance"
    got = stored(target)
    assert list(got["indicator"].unique()) == ["ECO_BUDGET_REVENUE"]
    assert list(got["period"]) == ["2024-03", "2024-04", "2024-05"]
    assert list(got["value"]) == [63.0, 64.0, 65.0]


def city_platform(content: bytes) -> httpx.Client:
    """A stand-in for a city platform that answers every data query with ``content``."""
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/sdmx/data/CITY_ECON/Q.GDP.CN370203"
        return httpx.Response(200, content=content, headers={
            "content-type": "application/vnd.sdmx.data+csv;version=2.0.0"})
    return httpx.Client(transport=httpx.MockTransport(answer))


def test_units_from_unit_multiplier_are_converted(target: Settings) -> None:
    rows = (HERE / "remote_wan_yuan.csv").read_bytes().decode().splitlines()
    content = "\n".join(rows[:4]).encode()  # 万元 values and one missing value
    req = PullRequest("https://city.example/sdmx", "CITY_ECON", "Q.GDP.CN370203",
                      mapping=Mapping.read(HERE / "city_mapping.yaml"))
    result = pull(target, req, client=city_platform(content))
    assert result.rows == 2
    got = stored(target)
    assert list(got["value"]) == [180.5, 185.5] and list(got["area_code"]) == [DISTRICT] * 2


def test_a_bad_remote_row_rejects_the_whole_pull(target: Settings) -> None:
    content = (HERE / "remote_wan_yuan.csv").read_bytes()  # the last row is in 亿美元
    req = PullRequest("https://city.example/sdmx", "CITY_ECON", "Q.GDP.CN370203",
                      mapping=Mapping.read(HERE / "city_mapping.yaml"))
    with locale_context("en"), pytest.raises(CityGrowthError) as rejected:
        pull(target, req, client=city_platform(content))
    problems = [p.render("en") for p in rejected.value.problems]
    assert len(problems) == 1
    assert problems[0]["field"] == "unit" and problems[0]["row"] == 4
    assert "亿美元" in problems[0]["message"]
    assert stored(target).empty


def test_unmapped_codes_are_named(world: World, target: Settings) -> None:
    req = PullRequest(f"{world.base_url}/sdmx", "CGI", "A..",
                      mapping=Mapping(indicators={"ECO_FIN_INSTITUTIONS": "ECO_NOT_A_CODE"}),
                      api_key=world.machine_key)
    with pytest.raises(CityGrowthError) as rejected:
        pull(target, req)
    problems = [p.render("en") for p in rejected.value.problems]
    assert {p["field"] for p in problems} == {"indicator"}
    assert {p["message"] for p in problems} == {"Unknown indicator code 'ECO_NOT_A_CODE'."}
    assert stored(target).empty


def test_remote_errors_and_bad_keys_are_reported(world: World, target: Settings) -> None:
    with locale_context("en"), pytest.raises(CityGrowthError) as remote:
        pull(target, PullRequest(f"{world.base_url}/sdmx", "NOPE", api_key=world.machine_key))
    assert remote.value.code == "sdmx_remote_error"
    assert "404" in remote.value.render_message("en") and "100" in remote.value.render_message(
        "en")
    with pytest.raises(CityGrowthError) as unauthorised:
        pull(target, PullRequest(f"{world.base_url}/sdmx", "CGI"))
    assert "401" in unauthorised.value.render_message("en")
    with pytest.raises(CityGrowthError) as bad_key:
        pull(target, PullRequest(f"{world.base_url}/sdmx", "CGI", "Q.ECO_GDP"))
    assert bad_key.value.code == "sdmx_bad_key"
    assert stored(target).empty


def test_pull_needs_data_load(world: World, target: Settings) -> None:
    analyst = Actor(user_id=99, username="analyst", grants=(Grant("analyst", DISTRICT),))
    with pytest.raises(Forbidden):
        pull(target, PullRequest(f"{world.base_url}/sdmx", "CGI"), actor=analyst)


def test_cli_pull(world: World, target: Settings) -> None:
    with locale_context("en"):
        result = CliRunner().invoke(exchange, [
            "sdmx-pull", f"{world.base_url}/sdmx", "--flow", "CGI", "--key", "A..",
            "--api-key", world.machine_key], obj=CliContext(target))
    assert result.exit_code == 0, result.output
    assert "Loaded 2 observations of 1 indicators" in result.output
    assert len(stored(target)) == 2
