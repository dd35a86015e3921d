from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from citygrowth.runtime import Runtime
from tests.ingest.conftest import DATA


def test_cli_loads_a_file_and_lists_loads(env_sqlite: tuple[Session, Runtime],
                                          monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    _session, runtime = env_sqlite
    settings = runtime.settings
    monkeypatch.setenv("CITYGROWTH_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CITYGROWTH_DATABASE_URL", settings.resolved_database_url)
    from citygrowth.cli.main import main

    runner = CliRunner()
    ok = runner.invoke(main, ["--lang", "en", "data", "load", str(DATA / "good.csv"),
                              "--dataset", "stats"])
    assert ok.exit_code == 1 and "does not belong to dataset stats" in ok.output
    ok = runner.invoke(main, ["--lang", "en", "data", "load", str(DATA / "bad.csv"),
                              "--dataset", "stats"])
    assert ok.exit_code == 1 and "row=3, field=indicator: Unknown indicator code 'NOPE'." in (
        ok.output)
    listing = runner.invoke(main, ["--lang", "en", "data", "loads", "--status", "rejected"])
    assert listing.exit_code == 0 and listing.output.count("rejected") == 2
    good = tmp_path / "gdp.csv"
    good.write_text("indicator,area_code,period,value\nECO_GDP,370203,2024-Q1,174.02\n",
                    encoding="utf-8")
    ok = runner.invoke(main, ["--lang", "en", "data", "load", str(good), "--dataset", "stats"])
    assert ok.exit_code == 0 and "Loaded 1 rows as L" in ok.output
    shown = runner.invoke(main, ["--lang", "en", "data", "datasets"])
    assert "urban" in shown.output
