from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from citygrowth.catalog.framework import parse_framework
from citygrowth.catalog.units import (
    BUILTIN,
    COUNTERS,
    DIMENSIONS,
    UnitError,
    convert,
    factor,
    parse_unit,
    spellings,
)
from citygrowth.errors import ValidationFailed
from citygrowth.ingest.validate import check


@pytest.mark.parametrize(("value", "source", "target", "expected"), [
    (7_566_000, "万元", "亿元", 756.6),
    (756.6, "亿元", "元", 75_660_000_000),
    (4.9, "亿美元", "万美元", 49_000),
    (76.3, "%", "‰", 763),
    (13, "万人", "人", 130_000),
    (56, "万m²", "m²", 560_000),
    (2, "km²", "公顷", 200),
    (2, "天", "小时", 48),
    (3, "家", "个", 3),
    (5, "10k CNY", "元", 50_000),
])
def test_convert_within_a_dimension(value: float, source: str, target: str,
                                    expected: float) -> None:
    assert convert(value, source, target) == pytest.approx(expected)


def test_dollars_stay_apart_from_yuan_unless_a_rate_is_given() -> None:
    with pytest.raises(UnitError) as err:
        factor("亿美元", "亿元")
    assert err.value.code == "unit_mismatch"
    assert convert(4.9, "亿美元", "亿元", fx_rates={"USD": 7.1}) == pytest.approx(34.79)
    assert convert(71, "元", "美元", fx_rates={"USD": 7.1}) == pytest.approx(10)


def test_unknown_and_compound_units() -> None:
    with pytest.raises(UnitError):
        parse_unit("furlongs")
    per = parse_unit("人/万人")
    assert per.dimension == "persons/persons"
    assert convert(1, "人/万人", "人/千人") == pytest.approx(0.1)
    assert parse_unit("工作日").dimension == "working_days"
    with pytest.raises(UnitError):
        factor("工作日", "小时")


# --- the common statistical units of a district's framework ------------------------------

@pytest.mark.parametrize(("value", "source", "target", "expected"), [
    (78.5, "岁", "年", 78.5),
    (18, "个月", "年", 1.5),
    (2, "周", "天", 14),
    (90, "分钟", "小时", 1.5),
    (1.2, "万吨", "吨", 12_000),
    (3, "吨", "千克", 3000),
    (2.5, "万吨标准煤", "吨标准煤", 25_000),
    (1.5, "亿千瓦时", "千瓦时", 150_000_000),
    (15, "亩", "平方米", 10_000),
    (3.2, "万人次", "人次", 32_000),
    (4, "万户", "户", 40_000),
    (6.1, "张/千人", "床/千人", 6.1),
    (5.2, "万元/人", "元/人", 52_000),
    (35, "平方米/人", "m²/人", 35),
    (12, "公里", "米", 12_000),
    (300, "辆", "辆", 300),
    (1.8, "‰", "%", 0.18),
    (0.5, "百分点", "%", 0.5),
    (2, "mg/m³", "μg/m³", 2000),
])
def test_common_statistical_units(value: float, source: str, target: str,
                                  expected: float) -> None:
    assert convert(value, source, target) == pytest.approx(expected)


@pytest.mark.parametrize(("a", "b"), [("人次", "人"), ("户", "个"), ("岁", "小时"),
                                      ("吨", "吨标准煤"), ("千瓦时", "千瓦"), ("床", "人")])
def test_things_that_do_not_add_up_stay_apart(a: str, b: str) -> None:
    with pytest.raises(UnitError) as err:
        factor(a, b)
    assert err.value.code == "unit_mismatch"


def test_every_built_in_unit_parses_with_and_without_a_magnitude() -> None:
    for counter in COUNTERS:
        assert parse_unit(counter).dimension == "count"
        assert parse_unit("万" + counter).scale == 1e4
    assert {parse_unit(u).dimension for u in ("天", "小时", "次", "件", "户", "人次", "万人", "床",
                                              "‰", "元/人", "万元/人", "平方米/人", "公里",
                                              "辆", "年", "岁")} == {
        "duration", "count", "households", "person_times", "persons", "ratio",
        "cny/persons", "area/persons", "length", "years"}
    assert set(DIMENSIONS) >= {d for d, _s, _c in BUILTIN.entries().values()}


# --- units a framework declares ------------------------------------------------------------

def _framework(units: object = None, unit: str = "岁") -> dict[str, object]:
    doc: dict[str, object] = {
        "code": "LIFE", "version": "1", "sources": {"s": "Statistical yearbook"},
        "pillars": [{"code": "P", "name_zh": "健康", "name_en": "Health", "indicators": [
            {"code": "LIFE_EXPECTANCY", "name_zh": "人均预期寿命", "name_en": "Life expectancy",
             "unit": "岁", "direction": 1, "department": "health", "frequency": "A",
             "finest_level": "district", "rollup": "mean", "source": "s",
             "goalposts": {"lo": 60, "hi": 85}},
            {"code": "PORT_TEU", "name_zh": "集装箱吞吐量", "name_en": "Container throughput",
             "unit": unit, "direction": 1, "department": "port", "frequency": "A",
             "finest_level": "district", "rollup": "sum", "source": "s"}]}]}
    if units is not None:
        doc["units"] = units
    return doc


def test_a_framework_with_life_expectancy_in_years_of_age_loads() -> None:
    fw = parse_framework(_framework(), "life.yaml")
    assert fw.indicator("LIFE_EXPECTANCY").unit == "岁"


def test_a_framework_declares_its_own_unit_and_data_convert_into_it() -> None:
    units = [{"symbol": "标准箱", "dimension": "teu", "aliases": ["TEU"],
              "name_zh": "标准箱", "name_en": "TEU"},
             {"symbol": "亩", "dimension": "area", "scale": 2000 / 3}]  # same as built in
    fw = parse_framework(_framework(units, unit="万标准箱"), "port.yaml")
    assert fw.units.dimensions == ("teu",)
    assert convert(2.5, "万标准箱", "标准箱", catalog=fw.units) == pytest.approx(25_000)
    assert convert(7, "万TEU", "万标准箱", catalog=fw.units) == pytest.approx(7)
    assert "亿标准箱" in spellings("标准箱", fw.units)
    with pytest.raises(UnitError):
        parse_unit("标准箱")  # only this framework knows it
    # a load in 标准箱 is converted into the indicator's 万标准箱
    con = duckdb.connect()
    con.register("src_df", pd.DataFrame({
        "indicator": ["PORT_TEU", "PORT_TEU"], "area_code": ["370203", "370203"],
        "period": ["2024", "2025"], "value": [31000.0, 42000.0], "unit": ["标准箱", "TEU"]}))
    con.execute("CREATE VIEW src AS SELECT * FROM src_df")
    areas = pd.DataFrame({"code": ["370203"], "level": ["district"]})
    checked = check(con, fw, areas, "port.csv", 2, None, dt.date(2026, 1, 1))
    assert not checked.problems
    got = sorted(v for (v,) in con.execute("SELECT value FROM j").fetchall())
    assert got == pytest.approx([3.1, 4.2])


def test_bad_unit_declarations_are_named_in_one_error() -> None:
    units = [{"symbol": "标准箱", "dimension": "teu"},
             {"symbol": "标准箱", "dimension": "teu"},              # twice
             {"symbol": "吨", "dimension": "count"},                 # a built-in, otherwise
             {"symbol": "x/y", "dimension": "Bad Dim", "scale": 0},  # slash, dimension, scale
             {"symbol": "k", "dimension": "teu", "colour": "red"},   # unknown key
             "标准箱"]
    with pytest.raises(ValidationFailed) as err:
        parse_framework(_framework(units, unit="furlongs"), "port.yaml")
    fields = [p.field for p in err.value.problems]
    assert fields == ["units[1].symbol", "units[2].symbol", "units[3].symbol",
                      "units[3].dimension", "units[3].scale", "units[4].colour", "units[5]",
                      "PORT_TEU"]
    assert all(p.file == "port.yaml" for p in err.value.problems)
    assert err.value.params["n"] == 8
