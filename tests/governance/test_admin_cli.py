"""``citygrowth cases categories …`` and ``citygrowth cases rules …``: the administration
pages' services from the command line — what they change, what dispatch and intake then do,
errors naming the field in both languages, and the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, text

from citygrowth.auth.actor import system_actor
from citygrowth.auth.models import AuditEntry
from citygrowth.cli.main import main
from citygrowth.db import make_engine, make_sessionmaker, upgrade
from citygrowth.errors import ValidationFailed
from citygrowth.governance import dispatch
from citygrowth.governance.intake import ReportInput, submit_report
from citygrowth.governance.models import CaseCategory
from tests.factories import STREET_A, TEST_AUDIT
from tests.governance.conftest import GRID_A, POS_A, RUNTIME, seed_store


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    engine = make_engine(url)
    seed_store(make_sessionmaker(engine, TEST_AUDIT))
    engine.dispose()
    return {"CITYGROWTH_DATABASE_URL": url, "CITYGROWTH_DATA_DIR": str(tmp_path / "var")}


def run(env: dict[str, str], *args: str, lang: str = "en") -> Result:
    return CliRunner().invoke(main, ["--lang", lang, "cases", *args], env=env)


def _session(env: dict[str, str]):  # type: ignore[no-untyped-def]
    return make_sessionmaker(make_engine(env["CITYGROWTH_DATABASE_URL"]))()


def test_categories_from_the_command_line(env: dict[str, str]) -> None:
    r = run(env, "categories", "add", "e0105", "--parent", "E01", "--name-zh", "占道堆物",
            "--name-en", "Goods on the pavement", "--department", "urban", "--hours", "24")
    assert r.exit_code == 0 and "Category E0105 added." in r.output, r.output
    listing = run(env, "categories", "list").output
    assert "  E0105\tevent\t占道堆物\tGoods on the pavement\turban\t24\t-\tactive" in listing

    r = run(env, "categories", "set", "E0105", "--hours", "48", "--department", "",
            "--after-photo")
    assert r.exit_code == 0, r.output
    with _session(env) as s:
        cat = s.get(CaseCategory, "E0105")
        assert cat is not None
        assert (cat.name_zh, cat.name_en, cat.department_code, cat.time_limit_hours,
                cat.after_photo_required) == ("占道堆物", "Goods on the pavement", None, 48.0,
                                              True)
    assert run(env, "categories", "set", "E0105", "--no-after-photo").exit_code == 0
    with _session(env) as s:
        cat = s.get(CaseCategory, "E0105")
        assert cat is not None and not cat.after_photo_required and cat.time_limit_hours == 48

    r = run(env, "categories", "deactivate", "E01", lang="zh_CN")
    assert r.exit_code == 0 and "已停用类别 E01" in r.output
    assert "E0105" not in run(env, "categories", "list").output
    assert "E0105\tevent\t占道堆物\tGoods on the pavement\t-\t48\t-\tdeactivated" in \
        run(env, "categories", "list", "--all").output
    with _session(env) as s, pytest.raises(ValidationFailed) as err:  # intake refuses it
        submit_report(s, system_actor("test"), ReportInput(
            category_code="E0105", lon=POS_A[0], lat=POS_A[1]), runtime=RUNTIME)
    assert err.value.problems[0].field == "category_code"

    r = run(env, "categories", "reactivate", "E0105")  # its 大类 first
    assert r.exit_code != 0 and "E01" in r.output
    assert run(env, "categories", "reactivate", "E01").exit_code == 0
    assert run(env, "categories", "reactivate", "E0105").exit_code == 0
    with _session(env) as s:
        made = submit_report(s, system_actor("test"), ReportInput(
            category_code="E0105", lon=POS_A[0], lat=POS_A[1]), runtime=RUNTIME)
        assert made.case.area_code == GRID_A
        actions = [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["case_category.create", "case_category.update",
                       "case_category.update", "case_category.deactivate",
                       "case_category.reactivate", "case_category.reactivate"]


@pytest.mark.parametrize(("lang", "words"), [("en", "digits"), ("zh_CN", "两位数字")])
def test_category_errors_name_the_field(env: dict[str, str], lang: str, words: str) -> None:
    r = run(env, "categories", "add", "E0199X", "--parent", "E01", "--name-zh", "x",
            "--hours", "-3", lang=lang)
    assert r.exit_code != 0
    assert "field=CODE" in r.output and words in r.output
    assert "field=--hours" in r.output
    r = run(env, "categories", "set", "NOPE", "--hours", "3", lang=lang)
    assert r.exit_code != 0 and "NOPE" in r.output
    with _session(env) as s:
        assert s.get(CaseCategory, "E0199X") is None
        assert s.scalars(select(AuditEntry)).first() is None


def test_rules_from_the_command_line(env: dict[str, str]) -> None:
    with _session(env) as s:
        before = dispatch.route(s, "E0101", GRID_A)
    r = run(env, "rules", "add", "--category", "E01", "--area", STREET_A,
            "--department", "market", "--note", "street A's markets")
    assert r.exit_code == 0 and "Dispatch rule 1 added." in r.output, r.output
    assert run(env, "rules", "list").output == \
        f"1\tE01\t{STREET_A}\tmarket\t0\tstreet A's markets\n"
    with _session(env) as s:
        assert dispatch.route(s, "E0101", GRID_A) == "market" != before

    r = run(env, "rules", "set", "1", "--priority", "5")
    assert r.exit_code == 0, r.output
    assert run(env, "rules", "list").output.startswith(f"1\tE01\t{STREET_A}\tmarket\t5\t")

    r = run(env, "rules", "add", "--category", "E01", "--area", "999", lang="zh_CN")
    assert r.exit_code != 0
    assert "field=--department" in r.output and "field=--area" in r.output

    assert run(env, "rules", "remove", "1").exit_code == 0
    assert run(env, "rules", "list").output == ""
    r = run(env, "rules", "remove", "1")
    assert r.exit_code != 0 and "1" in r.output
    with _session(env) as s:
        assert dispatch.route(s, "E0101", GRID_A) == before
        actions = [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["dispatch_rule.create", "dispatch_rule.update", "dispatch_rule.delete"]


def test_recount_finds_and_mends_drift(env: dict[str, str]) -> None:
    with _session(env) as s:
        submit_report(s, system_actor("test"), ReportInput(category_code="E0101", lon=POS_A[0],
                                                          lat=POS_A[1], description="垃圾"),
                      runtime=RUNTIME)
        s.commit()
    assert run(env, "recount", "--check").exit_code == 0
    with _session(env) as s:
        s.execute(text("UPDATE case_counts SET n = n + 2"))
        s.commit()
    r = run(env, "recount", "--check", lang="zh_CN")
    assert r.exit_code == 1 and "项数量与案件不一致" in r.output and "kept=" in r.output
    r = run(env, "recount")
    assert r.exit_code == 0 and "rows written" in r.output
    assert run(env, "recount", "--check").exit_code == 0
