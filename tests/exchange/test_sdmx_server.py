"""The sdmx1 client against a running citygrowth server on loopback."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
import sdmx
from click.testing import CliRunner

from citygrowth.cli.context import CliContext
from citygrowth.exchange.cli import exchange
from citygrowth.exchange.sdmx.errors import parse_error
from tests.exchange.conftest import GDP, World
from tests.factories import DISTRICT, STREET_A, STREET_B


@pytest.fixture(scope="module")
def client(world: World) -> sdmx.Client:
    """sdmx1 with our server registered as a source (named, as sdmx1 expects, after the
    agency it asks for by default), sending the machine client's key."""
    sdmx.add_source({"id": "CN_370203", "url": f"{world.base_url}/sdmx",
                     "name": "citygrowth test server"}, override=True)
    c = sdmx.Client("CN_370203")
    c.session.headers["X-API-Key"] = world.machine_key
    return c


def obs_table(msg: sdmx.message.DataMessage) -> dict[tuple[str, str, str], float]:
    out = {}
    for ds in msg.data:
        for obs in ds.obs:
            k = {kv.id: str(kv.value) for kv in obs.key}
            out[(k["INDICATOR"], k["AREA"], k["TIME_PERIOD"])] = float(obs.value)
    return out


def test_dataflow_with_references_gives_dsd_and_codelists(client: sdmx.Client) -> None:
    msg = client.dataflow("CGI")
    flow = msg.dataflow["CGI"]
    assert str(flow.name.localizations["zh"]) == "城市成长力观测数据"
    dsd = msg.structure["DSD_CGI"]
    assert [d.id for d in dsd.dimensions.components][-1] == "TIME_PERIOD"
    areas = msg.codelist["CL_AREA"]
    assert {DISTRICT, STREET_A, STREET_B} <= {c.id for c in areas}
    assert "ECO_GDP" in msg.codelist["CL_INDICATOR"]


def test_other_structure_resources(client: sdmx.Client) -> None:
    assert "CL_FREQ" in client.codelist("CL_FREQ").codelist
    assert "CS_CGI" in client.conceptscheme("CS_CGI").concept_scheme
    assert "DSD_CGI" in client.datastructure("DSD_CGI").structure


def test_data_for_a_key_with_periods(client: sdmx.Client) -> None:
    msg = client.data("CGI", key="Q.ECO_GDP.370203001+370203002",
                      params={"startPeriod": "2024-Q2", "endPeriod": "2024-Q3"})
    assert obs_table(msg) == {
        ("ECO_GDP", area, f"2024-Q{q}"): GDP[area][q - 1]
        for area in (STREET_A, STREET_B) for q in (2, 3)
    }


def test_whole_dataflow_has_every_observation(client: sdmx.Client) -> None:
    table = obs_table(client.data("CGI"))
    assert len(table) == 12 + 12 + 2
    assert table[("ECO_RETAIL_SALES", DISTRICT, "2024-07")] == 67.0
    assert table[("ECO_FIN_INSTITUTIONS", STREET_A, "2024")] == 96.0


def test_structure_specific_and_csv_from_the_server(client: sdmx.Client, world: World) -> None:
    dsd = client.datastructure("DSD_CGI").structure["DSD_CGI"]
    msg = client.data("CGI", key="A..", dsd=dsd, headers={
        "Accept": "application/vnd.sdmx.structurespecificdata+xml;version=2.1",
        "X-API-Key": world.machine_key})
    assert obs_table(msg) == {("ECO_FIN_INSTITUTIONS", STREET_A, "2023"): 90.0,
                              ("ECO_FIN_INSTITUTIONS", STREET_A, "2024"): 96.0}
    r = httpx.get(f"{world.base_url}/sdmx/data/CGI/A..", params={"format": "csv"},
                  headers={"X-API-Key": world.machine_key})
    assert r.headers["content-type"].startswith("application/vnd.sdmx.data+csv")
    flow = client.dataflow("CGI").dataflow["CGI"]
    back = sdmx.read_sdmx(io.BytesIO(r.content), format="csv", structure=flow)
    assert obs_table(back) == obs_table(msg)


def test_last_n_observations_and_all_dimensions(world: World) -> None:
    r = httpx.get(f"{world.base_url}/sdmx/data/CGI/Q.ECO_GDP.{DISTRICT}",
                  params={"lastNObservations": "1", "dimensionAtObservation": "AllDimensions"},
                  headers={"X-API-Key": world.machine_key})
    assert r.status_code == 200
    table = obs_table(sdmx.read_sdmx(io.BytesIO(r.content)))
    assert table == {("ECO_GDP", DISTRICT, "2024-Q4"): 200.85}


def sdmx_error(r: httpx.Response) -> tuple[int, str]:
    parsed = parse_error(r.content)
    assert parsed is not None, r.text
    return r.status_code, parsed[0]


@pytest.mark.parametrize(("path", "params", "expected"), [
    ("/sdmx/data/CGI/Q.ECO_GDP", {}, (400, "140")),
    ("/sdmx/data/CGI/Q.ECO_GDP.", {"detail": "everything"}, (400, "140")),
    ("/sdmx/data/CGI/Q.ECO_GDP.", {"startPeriod": "last year"}, (400, "140")),
    ("/sdmx/data/NOPE", {}, (404, "100")),
    ("/sdmx/data/CGI/M.ECO_GDP.", {}, (404, "100")),
    ("/sdmx/data/CGI/Q.ECO_GDP./OTHER_AGENCY", {}, (404, "100")),
    ("/sdmx/data/CGI", {"format": "json"}, (406, "406")),
    ("/sdmx/dataflow/OTHER/CGI", {}, (404, "100")),
    ("/sdmx/codelist/all/CL_NOPE", {}, (404, "100")),
    ("/sdmx/dataflow/all/CGI/latest", {"references": "cousins"}, (400, "140")),
])
def test_errors_are_sdmx_error_messages(world: World, path: str, params: dict[str, str],
                                        expected: tuple[int, str]) -> None:
    r = httpx.get(world.base_url + path, params=params, headers={"X-API-Key": world.machine_key})
    assert sdmx_error(r) == expected


def test_data_needs_a_key_but_structures_are_public(world: World) -> None:
    anonymous = httpx.get(f"{world.base_url}/sdmx/data/CGI")
    assert sdmx_error(anonymous) == (401, "110")
    assert httpx.get(f"{world.base_url}/sdmx/dataflow").status_code == 200
    bad_key = httpx.get(f"{world.base_url}/sdmx/data/CGI", headers={"X-API-Key": "cg_x_y"})
    assert sdmx_error(bad_key) == (401, "110")


def test_a_street_user_sees_only_its_street(world: World) -> None:
    r = httpx.get(f"{world.base_url}/sdmx/data/CGI/Q.ECO_GDP.",
                  headers={"X-API-Key": world.street_key})
    areas = {k[1] for k in obs_table(sdmx.read_sdmx(io.BytesIO(r.content)))}
    assert areas == {STREET_A}
    other = httpx.get(f"{world.base_url}/sdmx/data/CGI/Q.ECO_GDP.{STREET_B}",
                      headers={"X-API-Key": world.street_key})
    assert sdmx_error(other) == (404, "100")


def test_cli_writes_every_structure(world: World, tmp_path: Path) -> None:
    out = tmp_path / "cgi-structure.xml"
    result = CliRunner().invoke(exchange, ["sdmx-structure", "-o", str(out)],
                                obj=CliContext(world.settings))
    assert result.exit_code == 0, result.output
    msg = sdmx.read_sdmx(out)
    assert msg.dataflow["CGI"].structure is msg.structure["DSD_CGI"]
    assert len(msg.codelist["CL_AREA"]) == 15
