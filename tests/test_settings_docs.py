"""docs/settings.md is generated from the settings class and must not drift from it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from citygrowth.cli import main
from citygrowth.settings import Settings
from citygrowth.settings_docs import render_settings_doc

DOC = Path(__file__).parent.parent / "docs" / "settings.md"


def test_settings_doc_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == render_settings_doc(), (
        "docs/settings.md is out of date: run `citygrowth settings docs > docs/settings.md`")


def test_every_setting_is_documented_with_a_description() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert f"`CITYGROWTH_{name.upper()}`" in text
        assert field.description, f"setting {name} has no description"


def test_cli_prints_the_same_text() -> None:
    result = CliRunner().invoke(main, ["settings", "docs"])
    assert result.exit_code == 0
    assert result.output == render_settings_doc()
