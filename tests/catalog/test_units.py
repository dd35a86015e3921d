from __future__ import annotations

import pytest

from citygrowth.catalog.units import UnitError, convert, factor, parse_unit


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
