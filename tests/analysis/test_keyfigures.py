"""The headline figures' rules: latest complete period, sums over the year so far, periods in
words, whole numbers printed whole, changes against the right period."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from citygrowth.analysis.keyfigures import KeyFigure, indicator_figure, year_to_date
from citygrowth.catalog.framework import builtin_framework
from citygrowth.periods import Period, latest_complete, period_text
from citygrowth.settings import Settings

TZ = ZoneInfo(str(Settings.model_fields["timezone"].default))
TODAY = dt.date(2026, 12, 5)  # December has run four days


@pytest.mark.parametrize(("period", "ytd", "zh", "en"), [
    ("2025", False, "2025年", "2025"),
    ("2026-Q3", False, "2026年第三季度", "Q3 2026"),
    ("2026-Q3", True, "2026年前三季度", "Q1–Q3 2026"),
    ("2026-Q1", True, "2026年第一季度", "Q1 2026"),
    ("2025-Q4", True, "2025年", "2025"),
    ("2026-11", False, "2026年11月", "Nov 2026"),
    ("2026-10", True, "2026年1—10月", "Jan–Oct 2026"),
    ("2026-12", True, "2026年", "2026"),
    ("2026-11-30", False, "2026年11月30日", "30 Nov 2026"),
])
def test_periods_in_words(period: str, ytd: bool, zh: str, en: str) -> None:
    p = Period.parse(period)
    assert period_text(p, "zh_CN", year_to_date=ytd) == zh
    assert period_text(p, "en", year_to_date=ytd) == en


def test_latest_complete_leaves_out_the_running_period() -> None:
    assert str(latest_complete(["2024", "2025", "2026"], TODAY)) == "2025"
    assert str(latest_complete(["2026-10", "2026-11", "2026-12"], TODAY)) == "2026-11"
    assert str(latest_complete(["2026-11"], dt.date(2026, 12, 1))) == "2026-11"
    assert latest_complete(["2026-12"], TODAY) is None


def test_year_to_date_needs_every_period_of_the_year() -> None:
    values = {"2026-01": 10.0, "2026-02": 11.0, "2026-03": 12.0}
    assert year_to_date(values, Period.parse("2026-03")) == 33.0
    del values["2026-02"]
    assert year_to_date(values, Period.parse("2026-03")) is None


def _rows(code: str, values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame([(code, "370203", p, v, pd.Timestamp("2026-12-01 02:00", tz="UTC"))
                         for p, v in values.items()],
                        columns=["indicator", "area_code", "period", "value", "vintage"])


def test_a_flow_is_summed_over_the_year_and_compared_with_a_year_before() -> None:
    fw = builtin_framework()
    quarters = {f"{y}-Q{q}": 100.0 + (y - 2025) * 10 + q for y in (2025, 2026)
                for q in (1, 2, 3, 4) if not (y == 2026 and q == 4)}
    fig = indicator_figure(fw, _rows("ECO_GDP", quarters), "ECO_GDP", True, TODAY, TZ)
    assert fig is not None and fig.period == "2026-Q3" and fig.year_to_date
    assert fig.value == 111 + 112 + 113 and fig.previous == 101 + 102 + 103
    d = fig.to_dict("zh_CN")
    assert d["period_text"] == "2026年前三季度" and d["source"] == "区统计局"
    assert d["change_text"] == "比上年同期+9.8%" and d["vintage"] == "2026-12-01 10:00"


def test_a_running_month_is_not_compared_with_a_target() -> None:
    """The on-time rate of four days of December is left out: November's whole month is shown
    against the framework's target, and compared with October."""
    fw = builtin_framework()
    rows = _rows("GOV_CASE_ONTIME_RATE", {"2026-10": 90.2, "2026-11": 90.6, "2026-12": 78.4})
    fig = indicator_figure(fw, rows, "GOV_CASE_ONTIME_RATE", False, TODAY, TZ,
                           year_on_year=False)
    assert fig is not None and fig.period == "2026-11" and fig.value == 90.6
    d = fig.to_dict("zh_CN")
    assert d["target_text"] == "目标95%" and d["change_text"] == "比2026年10月+0.4个百分点"
    assert fig.to_dict("en")["change_text"] == "+0.4 pp on Oct 2026"


def test_whole_numbers_are_printed_whole() -> None:
    fig = KeyFigure(code="SOC_SCHOOLS_BUILT", name_zh="新建改扩建学校数", name_en="Schools",
                    value=7.0, unit="所", period="2025", year_to_date=False, source_zh="区教育局",
                    source_en="Education Bureau")
    assert fig.to_dict("zh_CN")["display"] == "7"
    assert KeyFigure(**{**fig.__dict__, "value": 756.6}).to_dict("en")["display"] == "756.6"
    assert KeyFigure(**{**fig.__dict__, "value": 140523.0}).to_dict("en")["display"] == \
        "140,523"
