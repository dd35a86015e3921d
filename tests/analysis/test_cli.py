"""``citygrowth analysis …`` commands through the real root command."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy.orm import Session

from citygrowth.runtime import Runtime
from citygrowth.settings import Settings
from tests.analysis.test_store_integration import _setup
from tests.factories import DISTRICT


def run(settings: Settings, *args: str) -> tuple[int, str]:
    from citygrowth.cli.main import main

    env = {"CITYGROWTH_DATA_DIR": str(settings.data_dir), "CITYGROWTH_ENV": "test",
           "CITYGROWTH_DATABASE_URL": settings.resolved_database_url}
    result = CliRunner().invoke(main, ["--lang", "en", "analysis", *args], env=env)
    return result.exit_code, result.output


def test_briefing_forecast_and_bad_month(sqlite_session: Session, runtime: Runtime,
                                         tmp_path: Path) -> None:
    settings = runtime.settings
    _setup(sqlite_session, runtime)
    out = tmp_path / "b.pdf"
    code, text = run(settings, "briefing", "--month", "2026-10", "--area", DISTRICT,
                     "--lang", "zh_CN", "--format", "pdf", "--out", str(out))
    assert code == 0, text
    assert "Briefing written" in text and out.read_bytes().startswith(b"%PDF")
    code, text = run(settings, "forecast", "--indicator", "APP_PM25", "--area", DISTRICT,
                     "--horizon", "2")
    assert code == 0, text
    assert json.loads(text)["periods"] == ["2026-11", "2026-12"]
    code, text = run(settings, "briefing", "--month", "2026-13", "--area", DISTRICT)
    assert code == 1 and "not a period" in text
