"""Command-line habits: ``citygrowth --help`` answers without importing any domain (its speed
is measured by ``python -m bench.cli``), in the reader's language; every help text has a
Chinese translation; long commands show progress; ``settings show`` hides secrets; the
dependencies are ranges locked by constraints.txt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.requirements import Requirement

from citygrowth.cli import main
from citygrowth.cli.index import INDEX_FILE, render_index
from citygrowth.cli.localize import english_help, help_msgids
from citygrowth.i18n import catalog
from tests.screens.conftest import build_indexed
from tests.test_cli_help import walk

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sqlalchemy", "pandas", "pydantic", "pydantic_settings", "fastapi", "numpy", "duckdb",
         "ibis", "pyarrow", "rich.progress")
LIGHT_OWN = {"citygrowth", "citygrowth.cli", "citygrowth.cli.main", "citygrowth.cli.context",
             "citygrowth.cli.index", "citygrowth.cli.localize", "citygrowth.errors",
             "citygrowth.i18n"}


def test_the_command_index_is_current() -> None:
    assert INDEX_FILE.read_text(encoding="utf-8") == render_index(), (
        "run `make docs` (or write citygrowth.cli.index.render_index() to "
        "src/citygrowth/cli/commands.json) after changing a command")


def test_root_help_imports_no_domain_and_no_heavy_library() -> None:
    code = ("import sys, json\nfrom citygrowth.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(json.dumps(sorted(sys.modules)), file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=ROOT, env={**os.environ, "CITYGROWTH_DEFAULT_LOCALE": "zh_CN"},
                       check=True)
    modules = json.loads(r.stderr.strip().splitlines()[-1])
    heavy = [m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY]
    assert not heavy, heavy
    own = {m for m in modules if m.startswith("citygrowth")}
    assert own <= LIGHT_OWN, sorted(own - LIGHT_OWN)
    assert "命令" in r.stdout and "calendar" in r.stdout and "data" in r.stdout


def test_help_in_the_readers_language(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.delenv("CITYGROWTH_DEFAULT_LOCALE", raising=False)
    zh = runner.invoke(main, ["--help"]).output
    assert "用法：" in zh and "显示此帮助并退出。" in zh and "部门数据：载入文件" in zh
    en = runner.invoke(main, ["--lang", "en", "--help"]).output
    assert "Usage:" in en and "Department data: load files" in en and "用法" not in en
    monkeypatch.setenv("CITYGROWTH_DEFAULT_LOCALE", "en")
    assert "Show this message and exit." in runner.invoke(main, ["calendar", "--help"]).output
    monkeypatch.setenv("CITYGROWTH_DEFAULT_LOCALE", "zh_CN")
    sub = runner.invoke(main, ["calendar", "load", "--help"]).output
    assert "如该年已载入通知，则替换。" in sub and "示例： citygrowth calendar load" in sub
    # a run in English first (click caches the --help option) leaves the next in Chinese
    runner.invoke(main, ["--lang", "en", "calendar", "--help"])
    monkeypatch.delenv("CITYGROWTH_DEFAULT_LOCALE")
    assert "显示此帮助并退出。" in runner.invoke(main, ["calendar", "--help"]).output
    bad = runner.invoke(main, ["no-such-command"])
    assert bad.exit_code == 2 and "没有命令 'no-such-command'" in bad.output


def test_every_help_text_has_a_chinese_translation() -> None:
    """Add the Chinese of a new command's help (each paragraph) and options to a catalog,
    e.g. src/citygrowth/cli/locale/zh_CN.po."""
    cat = catalog()
    missing: dict[str, str] = {}
    for path, cmd in walk(main):
        help_en, options = english_help(cmd)
        for msgid in help_msgids(help_en) + [m for o in options for m in help_msgids(o)]:
            if msgid not in cat:
                missing.setdefault(msgid, " ".join(("citygrowth", *path)))
    assert not missing, "\n".join(f"{where}: {m!r}" for m, where in missing.items())


def test_settings_show_masks_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CITYGROWTH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CITYGROWTH_DATABASE_URL",
                       "postgresql+psycopg://citygrowth:s3cr%40t-pw@db.internal:5432/cg")
    monkeypatch.setenv("CITYGROWTH_SECRET_KEY", "very-secret-signing-key")
    monkeypatch.setenv("CITYGROWTH_SPARK_MASTER", "spark://ops:sparkpw@spark:7077")
    out = CliRunner().invoke(main, ["settings", "show"]).output
    for secret in ("s3cr", "very-secret-signing-key", "sparkpw"):
        assert secret not in out
    assert "CITYGROWTH_DATABASE_URL=postgresql+psycopg://citygrowth:***@db.internal:5432/cg" \
        in out
    assert "CITYGROWTH_SECRET_KEY=***" in out and "CITYGROWTH_SPARK_MASTER=spark://ops:***@" in out
    assert "CITYGROWTH_DISTRICT_CODE=370203" in out  # the rest as it is


def test_long_commands_show_progress(tmp_path: Path, sqlite_template: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    settings = build_indexed(tmp_path, sqlite_template)
    monkeypatch.setenv("CITYGROWTH_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CITYGROWTH_DATABASE_URL", settings.resolved_database_url)
    runner = CliRunner()
    r = runner.invoke(main, ["index", "compute"])
    assert r.exit_code == 0, r.output
    assert "按区域层级计算指数" in r.output and "3/3" in r.output  # street, community, grid
    r = runner.invoke(main, ["index", "uncertainty", "default", "--weights-noise", "0.2",
                             "--runs", "4"])
    assert r.exit_code == 0, r.output
    assert "蒙特卡洛模拟" in r.output and "4/4" in r.output
    r = runner.invoke(main, ["demo", "--only", "users"])
    assert r.exit_code == 0, r.output
    assert "演示城区" in r.output and "1/1" in r.output


def test_dependencies_are_ranges_and_constraints_pin_them() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        name, sep, version = line.partition("==")
        if sep and not line.startswith("#"):
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    reqs = [Requirement(r) for r in project["dependencies"]]
    reqs += [Requirement(r) for extra in project["optional-dependencies"].values()
             for r in extra]
    bad = []
    for req in reqs:
        name = req.name.lower().replace("_", "-")
        if any(s.operator in ("==", "===") for s in req.specifier) or not req.specifier:
            bad.append(f"{req}: give a range, the exact version goes to constraints.txt")
        elif name not in pins:
            bad.append(f"{req}: not pinned in constraints.txt")
        elif pins[name] not in req.specifier:
            bad.append(f"{req}: constraints.txt pins {pins[name]}, outside the range")
    assert not bad, "\n".join(bad)
    calendar = next(r for r in reqs if r.name == "chinesecalendar")
    assert "1.12.0" in calendar.specifier and "1.11.1" in calendar.specifier
