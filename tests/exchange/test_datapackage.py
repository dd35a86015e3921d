"""Frictionless Data Package export over HTTP and from the CLI, validated by frictionless."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import frictionless
import httpx
from click.testing import CliRunner

from citygrowth.cli.context import CliContext
from citygrowth.exchange.cli import exchange
from citygrowth.i18n import locale_context
from tests.exchange.conftest import World


def validate(path: Path) -> frictionless.Report:
    return frictionless.validate(str(path))


def test_http_export_is_a_valid_data_package(world: World, tmp_path: Path) -> None:
    r = httpx.get(f"{world.base_url}/api/exchange/datapackage.zip",
                  headers={"X-API-Key": world.machine_key})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert "datapackage.zip" in r.headers["content-disposition"]
    path = tmp_path / "cgi.zip"
    path.write_bytes(r.content)
    report = validate(path)
    assert report.valid, report.flatten(["type", "note"])
    assert report.stats["errors"] == 0
    with zipfile.ZipFile(path) as zf:
        descriptor = json.loads(zf.read("datapackage.json"))
        rows = list(csv.DictReader(io.StringIO(zf.read("data/observations.csv").decode())))
    assert [res["name"] for res in descriptor["resources"]] == ["indicators", "areas",
                                                                "observations"]
    assert len(rows) == 26
    gdp = [r for r in rows if r["indicator"] == "ECO_GDP" and r["area_code"] == "370203"]
    assert [r["value"] for r in gdp] == ["180", "185.5", "190.25", "200.85"]


def test_the_check_is_real_a_broken_package_fails(world: World, tmp_path: Path) -> None:
    r = httpx.get(f"{world.base_url}/api/exchange/datapackage.zip",
                  headers={"X-API-Key": world.machine_key})
    src = zipfile.ZipFile(io.BytesIO(r.content))
    descriptor = json.loads(src.read("datapackage.json"))
    for res in descriptor["resources"]:
        res.pop("hash"), res.pop("bytes")
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("datapackage.json", json.dumps(descriptor))
        for name in ("data/indicators.csv", "data/areas.csv"):
            zf.writestr(name, src.read(name))
        obs = src.read("data/observations.csv").decode().replace("370203001,", "370203999,", 1)
        zf.writestr("data/observations.csv", obs)
    report = validate(broken)
    assert not report.valid
    assert [e[0] for e in report.flatten(["type"])] == ["foreign-key"]


def test_cli_export_for_one_indicator(world: World, tmp_path: Path) -> None:
    out = tmp_path / "gdp.zip"
    with locale_context("en"):
        result = CliRunner().invoke(exchange, ["datapackage", "-o", str(out), "--indicator",
                                               "ECO_GDP"], obj=CliContext(world.settings))
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output
    report = validate(out)
    assert report.valid, report.flatten(["type", "note"])
    with zipfile.ZipFile(out) as zf:
        obs = zf.read("data/observations.csv").decode().splitlines()
        inds = zf.read("data/indicators.csv").decode().splitlines()
    assert len(obs) == 1 + 12 and all(line.startswith("ECO_GDP,") for line in obs[1:])
    assert len(inds) == 2


def test_export_needs_a_key_and_known_indicators(world: World) -> None:
    url = f"{world.base_url}/api/exchange/datapackage.zip"
    anonymous = httpx.get(url)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    unknown = httpx.get(url, params={"indicator": "NOPE"},
                        headers={"X-API-Key": world.machine_key, "Accept-Language": "en"})
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "No indicator 'NOPE' in this framework."


def test_street_users_export_only_their_street(world: World, tmp_path: Path) -> None:
    r = httpx.get(f"{world.base_url}/api/exchange/datapackage.zip",
                  headers={"X-API-Key": world.street_key})
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        rows = list(csv.DictReader(io.StringIO(zf.read("data/observations.csv").decode())))
    assert {row["area_code"] for row in rows} == {"370203001"}
    path = tmp_path / "street.zip"
    path.write_bytes(r.content)
    assert validate(path).valid


def test_exchange_commands_are_under_the_citygrowth_cli() -> None:
    from citygrowth.cli.main import main

    result = CliRunner().invoke(main, ["exchange", "--help"])
    assert result.exit_code == 0
    for command in ("datapackage", "sdmx-pull", "sdmx-structure"):
        assert command in result.output
