"""``citygrowth accountability …`` commands."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from citygrowth.cli.context import CliContext
from citygrowth.settings import Settings
from tests.accountability.test_excel import GOOD, workbook
from tests.conftest import needs


@pytest.fixture
def sqlite_url(seeded_sqlite_url: str) -> str:
    """The commands run against the seeded demo store."""
    return seeded_sqlite_url


@pytest.fixture
def cx(settings: Settings) -> CliContext:
    return CliContext(settings=settings)


def run(cx: CliContext, *args: str) -> tuple[int, str]:
    """Run ``citygrowth accountability …`` through the real root command."""
    from citygrowth.cli.main import main

    env = {"CITYGROWTH_DATA_DIR": str(cx.settings.data_dir), "CITYGROWTH_ENV": "test",
           "CITYGROWTH_DATABASE_URL": cx.settings.resolved_database_url,
           "CITYGROWTH_DEFAULT_LOCALE": "zh_CN"}
    result = CliRunner().invoke(main, ["accountability", *args], env=env)
    return result.exit_code, result.output


def test_import_rejects_bad_rows_then_accepts_good_ones(cx: CliContext, tmp_path: Path) -> None:
    bad = tmp_path / "targets.xlsx"
    bad.write_bytes(workbook(GOOD, ["T-X", "x", "", "urban", "", "370203", "", 0, "many",
                                    "2026-01-01", "2026-12-31"]))
    code, out = run(cx, "import-targets", str(bad))
    assert code == 1
    assert "targets.xlsx 中有 1 处问题，未导入任何内容。" in out
    assert "file=targets.xlsx, row=3, field=target_value: 不是数字。" in out
    good = tmp_path / "ok.xlsx"
    good.write_bytes(workbook(GOOD))
    code, out = run(cx, "import-targets", str(good))
    assert code == 0 and "已导入 ok.xlsx：新建 1 条，更新 0 条。" in out


def test_export_writes_excel_and_csv(cx: CliContext, tmp_path: Path) -> None:
    out = tmp_path / "projects.xlsx"
    assert run(cx, "export", "projects", "-o", str(out))[0] == 0
    ws = load_workbook(out).worksheets[0]
    assert ws.max_row == 120
    assert sum(r[7] for r in ws.iter_rows(min_row=2, values_only=True)) == pytest.approx(1530)
    csv = tmp_path / "approvals.csv"
    assert run(cx, "export", "approvals", "-o", str(csv))[0] == 0
    assert csv.read_text(encoding="utf-8").startswith("\ufeff代码,名称,类型")


def test_reminders_list_upcoming_milestones_per_department(cx: CliContext) -> None:
    code, out = run(cx, "reminders", "--days", "366")
    assert code == 0 and "education:" in out and "housing:" in out


@pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")
def test_publish_measures_command(cx: CliContext) -> None:
    needs("ingest service", importlib.util.find_spec("citygrowth.ingest.service") is not None)
    code, out = run(cx, "publish-measures")
    assert code == 0, out
    assert "GOV_APPROVAL_DAYS：" in out and "IND_INVEST_LEADS_LANDED：" in out


def test_updates_template_then_import(cx: CliContext, tmp_path: Path) -> None:
    path = tmp_path / "project-updates.xlsx"
    code, out = run(cx, "updates-template", "-o", str(path))
    assert code == 0 and path.exists()
    from openpyxl import load_workbook as load

    wb = load(path)
    ws = wb["investment"]
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 120  # header and every project
    ws.cell(row=2, column=3, value="很多")  # completed_wan: not a number
    ws.cell(row=3, column=3, value=250)
    wb.save(path)
    code, out = run(cx, "import-updates", str(path))
    assert code == 1 and "row=2, field=completed_wan" in out and "未导入任何内容" in out
    ws.cell(row=2, column=3).value = None  # skipped again
    wb.save(path)
    code, out = run(cx, "import-updates", str(path))
    assert code == 0 and "已导入 1 条更新。" in out, out
