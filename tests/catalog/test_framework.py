from __future__ import annotations

from pathlib import Path

import pytest

from citygrowth.catalog.datasets import get_dataset, list_datasets
from citygrowth.catalog.framework import Indicator, builtin_framework, parse_framework
from citygrowth.errors import NotFound, ValidationFailed
from citygrowth.plugins import hookimpl
from citygrowth.runtime import Runtime

REQUIRED = {
    "GOV_CASE_ONTIME_RATE", "GOV_CASE_CLOSURE_RATE", "GOV_CASE_REWORK_RATE",
    "GOV_CASE_HANDLING_HOURS", "GOV_CASE_SATISFACTION", "SOC_HELPER_HOURS",
    "SOC_HELP_TASKS_DONE", "GOV_APPROVAL_DAYS", "GOV_TARGETS_ON_TRACK", "ECO_KEY_PROJECT_INVEST",
    "IND_INVEST_LEADS_LANDED", "GOV_CASES_CLOSED_ONTIME", "GOV_CASES_DUE",
}


def test_default_framework_has_five_pillars_and_40_cited_indicators() -> None:
    fw = builtin_framework()
    pillars = [n for n in fw.nodes if n.kind == "pillar"]
    assert [p.code for p in pillars] == ["ECO", "IND", "APP", "SOC", "GOV"]
    assert [p.name_zh for p in pillars] == [
        "经济实力", "产业活力", "城区魅力", "社会合力", "治理能力"]
    assert len(fw.index_indicators) >= 40
    assert all(i.citation and i.ref for i in fw.indicators)
    assert {i.source for i in fw.indicators} >= {"seed", "cpi", "mohurd", "iso37120"}
    assert REQUIRED <= set(fw.indicator_map())


def test_tree_links_every_indicator_to_a_subpillar_of_a_pillar() -> None:
    fw = builtin_framework()
    codes = {n.code: n for n in fw.nodes}
    for ind in fw.index_indicators:
        sub = codes[ind.parent or ""]
        assert sub.kind == "subpillar"
        assert codes[sub.parent or ""].kind == "pillar"
    assert all(i.weight == 0 and i.parent is None for i in fw.supporting)


def test_contract_fields_of_shared_indicators() -> None:
    fw = builtin_framework()
    ontime = fw.indicator("GOV_CASE_ONTIME_RATE")
    assert (ontime.department, ontime.finest_level, ontime.frequency) == ("urban", "grid", "M")
    assert ontime.rollup.rule == "ratio_of_sums"
    assert (ontime.rollup.numerator, ontime.rollup.denominator) == (
        "GOV_CASES_CLOSED_ONTIME", "GOV_CASES_DUE")
    assert fw.indicator("GOV_CASE_REWORK_RATE").direction == -1
    assert fw.indicator("GOV_APPROVAL_DAYS").unit == "工作日"
    assert fw.indicator("SOC_HELPER_HOURS").department == "civil"
    assert fw.indicator("ECO_KEY_PROJECT_INVEST").rollup.rule == "sum"


def test_search_finds_chinese_and_english_names() -> None:
    fw = builtin_framework()
    found = [i.code for i in fw.search("按期结案")]
    assert found == ["GOV_CASE_ONTIME_RATE", "GOV_CASES_CLOSED_ONTIME"]
    assert "APP_MUSEUMS" in [i.code for i in fw.search("museum")]


def test_tree_json_nests_children() -> None:
    tree = builtin_framework().tree()["tree"]
    assert tree["code"] == "CGI"
    eco = tree["children"][0]
    assert eco["children"][0]["children"][0]["code"] == "ECO_GDP"


def test_unknown_indicator_is_not_found() -> None:
    with pytest.raises(NotFound):
        builtin_framework().indicator("NOPE")


def test_bad_framework_names_each_problem() -> None:
    data = {"code": "X", "pillars": [{"code": "P", "indicators": [
        {"code": "A", "name_zh": "甲", "name_en": "A", "unit": "furlongs", "direction": 2,
         "department": "d", "frequency": "W", "finest_level": "city", "rollup": "median",
         "source": "s"}]}]}
    with pytest.raises(ValidationFailed) as err:
        parse_framework(data, "x.yaml")
    fields = [p.params["what"] for p in err.value.problems]
    assert fields == ["unit", "direction", "frequency", "finest_level", "rollup"]


class _MiniPlugin:
    @hookimpl
    def citygrowth_indicator_frameworks(self) -> list[Path]:
        return [Path(__file__).parent.parent / "data" / "catalog" / "mini.yaml"]


def test_plugin_framework_is_listed_and_loaded_by_code(runtime: Runtime) -> None:
    runtime.plugins.register(_MiniPlugin())  # this runtime's manager only
    assert "MINI" in [f.code for f in runtime.frameworks.list()]
    fw = runtime.frameworks.load("MINI")
    assert isinstance(fw.indicator("M_FDI"), Indicator)
    assert fw.fx_rates == {"USD": 7.0}


def test_datasets_one_per_department() -> None:
    fw = builtin_framework()
    codes = [d.code for d in list_datasets(fw)]
    assert "urban" in codes and "stats" in codes
    urban = get_dataset("urban", fw)
    assert "GOV_CASE_ONTIME_RATE" in urban.indicators
    assert "ECO_GDP" not in urban.indicators
