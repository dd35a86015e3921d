"""The one Period type: parsing, canonical text, arithmetic."""

from __future__ import annotations

import datetime as dt

import pytest

from citygrowth.errors import ValidationFailed
from citygrowth.periods import Period


@pytest.mark.parametrize(
    ("text", "canonical", "start", "end"),
    [
        ("2024", "2024", dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
        ("2024Q3", "2024-Q3", dt.date(2024, 7, 1), dt.date(2024, 9, 30)),
        ("2024-q1", "2024-Q1", dt.date(2024, 1, 1), dt.date(2024, 3, 31)),
        ("2024-09", "2024-09", dt.date(2024, 9, 1), dt.date(2024, 9, 30)),
        ("2024M02", "2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("2024-W05", "2024-W05", dt.date(2024, 1, 29), dt.date(2024, 2, 4)),
        ("2024-09-30", "2024-09-30", dt.date(2024, 9, 30), dt.date(2024, 9, 30)),
    ],
)
def test_parse_gives_canonical_text_and_bounds(
    text: str, canonical: str, start: dt.date, end: dt.date
) -> None:
    p = Period.parse(text)
    assert str(p) == canonical
    assert (p.start, p.end) == (start, end)
    assert Period.parse(str(p)) == p


@pytest.mark.parametrize("bad", ["", "24", "2024Q5", "2024-13", "2024-02-30", "abc", "2024-W60"])
def test_bad_periods_are_refused_with_a_clear_message(bad: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        Period.parse(bad)
    assert info.value.code == "bad_period"
    assert bad.strip() in info.value.render_message("en")
    assert "不是有效的期间" in info.value.render_message("zh_CN")


@pytest.mark.parametrize("far", ["9999-12", "9999", "0001-01", "1899-Q4", "2201-W01",
                                 "0001-01-01"])
def test_periods_beyond_the_years_any_series_holds_are_refused(far: str) -> None:
    """Found by fuzzing ``/api/observations?end=9999-12``: the month after 9999-12 cannot be
    a date, and the query answered 500. Such years are refused when read, with a clear
    message; the first and last allowed years have a next and a previous period."""
    with pytest.raises(ValidationFailed) as info:
        Period.parse(far)
    assert info.value.code == "bad_period"
    assert "1900 to 2200" in info.value.render_message("en")
    assert "超出了 1900 至 2200 年的范围" in info.value.render_message("zh_CN")
    assert str(Period.parse("2200-12").next()) == "2201-01"
    assert str(Period.parse("1900-Q1").prev()) == "1899-Q4"


def test_shift_crosses_year_boundaries() -> None:
    assert str(Period.parse("2024-11").shift(3)) == "2025-02"
    assert str(Period.parse("2024-Q1").shift(-1)) == "2023-Q4"
    assert str(Period.parse("2024").prev()) == "2023"
    assert str(Period.parse("2024-12-31").next()) == "2025-01-01"


def test_range_and_coarsening() -> None:
    months = Period.parse("2024-11").range_to(Period.parse("2025-02"))
    assert [str(m) for m in months] == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert str(Period.parse("2024-08").to_freq("Q")) == "2024-Q3"
    assert str(Period.of(dt.date(2024, 5, 17), "A")) == "2024"
    with pytest.raises(ValidationFailed):
        Period.parse("2024").range_to(Period.parse("2024-03"))
