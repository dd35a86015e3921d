"""``citygrowth areas import | export | list | locate`` and the demo step through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from citygrowth.areas.models import Area
from citygrowth.cli.main import main
from citygrowth.db import make_engine, make_sessionmaker
from tests.factories import TEST_AUDIT, make_areas

DATA = Path(__file__).parent.parent / "data" / "areas"


@pytest.fixture
def run(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CITYGROWTH_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("CITYGROWTH_DATA_DIR", str(tmp_path / "var"))
    engine = make_engine(sqlite_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        make_areas(s)
        s.commit()
    engine.dispose()
    runner = CliRunner()

    def invoke(*args: str) -> object:
        return runner.invoke(main, ["--lang", "en", "areas", *args], catch_exceptions=False)

    yield invoke


def test_every_command_has_help_with_an_example() -> None:
    runner = CliRunner()
    for cmd in ("import", "export", "list", "locate"):
        result = runner.invoke(main, ["--lang", "en", "areas", cmd, "--help"])
        assert result.exit_code == 0 and "Example: citygrowth areas" in result.output


def test_list_and_locate(run) -> None:  # type: ignore[no-untyped-def]
    result = run("list", "--level", "street")
    assert result.exit_code == 0
    assert result.output.splitlines()[0].split("\t")[:3] == ["370203001", "street", "Street 1"]
    result = run("locate", "120.305", "36.055")
    assert result.output.strip() == "370203001001001\tGrid 1-1-1"
    result = run("locate", "10", "10")
    assert result.exit_code == 1 and "No grid cell holds the point (10.0, 10.0)." in result.output


def test_import_and_export(run, tmp_path: Path, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    result = run("import", str(DATA / "good.geojson"))
    assert result.exit_code == 0
    assert "2 created, 1 updated, 0 unchanged" in result.output
    out = tmp_path / "streets.geojson"
    result = run("export", "--level", "street", "--parent", "370203", "-o", str(out))
    assert result.exit_code == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [f["properties"]["code"] for f in doc["features"]] == [
        "370203001", "370203002", "370203003"]
    again = run("import", str(out))
    assert "0 created, 0 updated, 3 unchanged" in again.output


def test_bad_import_is_a_clean_message(run, tmp_path: Path, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                   '"properties": {"code": "12"}, "geometry": null}]}', encoding="utf-8")
    result = run("import", str(bad))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "file=bad.geojson, row=0, field=code: An area code has 6, 9, 12 or 15 digits" \
        in result.output
    missing = run("import", str(tmp_path / "nope.geojson"))
    assert missing.exit_code == 1 and "The file cannot be read" in missing.output
    engine = make_engine(sqlite_url)
    with make_sessionmaker(engine, TEST_AUDIT)() as s:
        assert len(s.scalars(select(Area)).all()) == 15
    engine.dispose()


def test_demo_step_runs_through_citygrowth_demo_and_is_idempotent(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYGROWTH_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("CITYGROWTH_DATA_DIR", str(tmp_path / "var"))
    runner = CliRunner()
    first = runner.invoke(main, ["--lang", "en", "demo", "--only", "areas"],
                          catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "Areas: 525 created, 0 updated, 0 unchanged; departments: 20 created." \
        in first.output
    second = runner.invoke(main, ["--lang", "en", "demo", "--only", "areas"],
                           catch_exceptions=False)
    assert "Areas: 0 created, 0 updated, 525 unchanged; departments: 0 created." \
        in second.output
    listed = runner.invoke(main, ["areas", "list", "--level", "street"])
    assert len(listed.stdout.splitlines()) == 22
    assert listed.stdout.splitlines()[2].split("\t")[:3] == [
        "370203011", "street", "登州路街道"]
