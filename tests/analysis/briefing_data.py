"""Numbers for briefing tests — all known in advance.

The briefing is for November 2026 (written as of 1 December): the index has results for
2019–2026, of which 2026 is still running, so every part of the briefing must use 2025 against
2024. Case handling is monthly; retail sales are monthly flows; volunteers stopped in 2024.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from citygrowth.analysis.briefing.compose import BriefingInputs, TargetOdds
from citygrowth.analysis.keyfigures import KeyFigure
from citygrowth.analysis.meta import IndicatorInfo
from citygrowth.settings import Settings
from tests.analysis.synth import months

AREA = "370203"
MONTH = "2026-11"
VINTAGE = "2026-11-03 08:00:00+00:00"  # 16:00 in the district's zone
TZ = str(Settings.model_fields["timezone"].default)
CHILDREN = {"370203001": ("街道1", "Street 1"), "370203002": ("街道2", "Street 2"),
            "370203003": ("街道3", "Street 3")}
INDICATORS = {
    "ECO_RETAIL_SALES": IndicatorInfo("ECO_RETAIL_SALES", "社会消费品零售总额",
                                      "Retail sales", "亿元", "cny"),
    "IND_NEW_ENTITIES": IndicatorInfo("IND_NEW_ENTITIES", "新登记市场主体",
                                      "New market entities", "户", "count"),
    "APP_PM25": IndicatorInfo("APP_PM25", "PM2.5浓度", "PM2.5", "μg/m³", direction=-1),
    "GOV_CASE_ONTIME_RATE": IndicatorInfo("GOV_CASE_ONTIME_RATE", "按期结案率",
                                          "Cases closed on time", "%", percent=True),
    "GOV_CASE_SATISFACTION": IndicatorInfo("GOV_CASE_SATISFACTION", "满意率",
                                           "Resident satisfaction", "%", percent=True),
    "SOC_VOLUNTEERS": IndicatorInfo("SOC_VOLUNTEERS", "注册志愿者人数", "Volunteers", "人"),
}
DEPARTMENTS = {"ECO_RETAIL_SALES": ("区商务局", "Commerce Bureau"),
               "IND_NEW_ENTITIES": ("区市场监管局", "Market Regulation Bureau"),
               "APP_PM25": ("生态环境分局", "Ecology and Environment Branch"),
               "GOV_CASE_ONTIME_RATE": ("区城市管理局", "Urban Management Bureau"),
               "GOV_CASE_SATISFACTION": ("区城市管理局", "Urban Management Bureau"),
               "SOC_VOLUNTEERS": ("区民政局", "Civil Affairs Bureau")}
PILLARS = {"ECO": ("经济实力", "Economic strength"), "GOV": ("治理能力", "Governance capacity")}
YEARS = [str(y) for y in range(2019, 2027)]


def observations() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    rows = []
    ms = months("2025-01", 23)  # up to 2026-11
    for code, base, step in (("ECO_RETAIL_SALES", 60.0, 0.5), ("IND_NEW_ENTITIES", 900, 5),
                             ("APP_PM25", 30.0, -0.1), ("GOV_CASE_ONTIME_RATE", 91.0, 0.1),
                             ("GOV_CASE_SATISFACTION", 88.0, 0.05)):
        for i, m in enumerate(ms):
            rows.append((code, AREA, m, round(base + step * i + rng.normal(0, abs(step)), 3),
                         VINTAGE))
    for y, v in (("2023", 120000.0), ("2024", 130000.0)):  # stale annual indicator
        rows.append(("SOC_VOLUNTEERS", AREA, y, v, "2025-02-01 08:00:00+00:00"))
    return pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value", "vintage"])


def annual() -> pd.DataFrame:
    """Yearly values as the index uses them: retail up strongly in 2025, PM2.5 up (worse)."""
    values = {"ECO_RETAIL_SALES": [700, 720, 745, 760, 790, 900],
              "IND_NEW_ENTITIES": [10000, 10200, 10300, 10500, 10600, 10650],
              "APP_PM25": [40, 38, 36, 34, 32, 38]}
    rows = [(code, AREA, str(2020 + i), float(v), VINTAGE)
            for code, vs in values.items() for i, v in enumerate(vs)]
    return pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value", "vintage"])


def index_results() -> pd.DataFrame:
    rows = []
    for unit, bump in ((AREA, 0.0), ("370203001", 2.0), ("370203002", -3.0),
                       ("370203003", 0.3)):
        for i, y in enumerate(YEARS):
            rows.append((unit, y, "CGI", 50 + 1.5 * i + (bump if y == "2025" else 0.0), 1))
            rows.append((unit, y, "ECO", 48 + 2.0 * i, 1))
            rows.append((unit, y, "GOV", 70 - 0.5 * i, 1))
    return pd.DataFrame(rows, columns=["unit", "period", "code", "value", "rank"])


def key_figures() -> list[KeyFigure]:
    return [KeyFigure(code="ECO_GDP", name_zh="地区生产总值", name_en="Gross domestic product",
                      value=617.7, unit="亿元", period="2026-Q3", year_to_date=True,
                      source_zh="区统计局", source_en="Statistics Bureau", vintage=VINTAGE,
                      previous=585.4, previous_period="2025-Q3")]


def inputs(month: str = MONTH) -> BriefingInputs:
    targets = [
        TargetOdds("T_PARKING", "新增停车泊位4000个", "Add 4,000 parking spaces", 4000, "个",
                   "2026-12-31", 0.12, "red", {"odds_available": True}, actual=0.42,
                   planned=0.92, department_zh="区交通运输局", department_en="Transport Bureau",
                   label="Off track"),
        TargetOdds("T_DOCTOR", "家庭医生签约覆盖率60%", "Family-doctor coverage 60%", 60, "%",
                   "2026-12-31", 0.93, "green", {"odds_available": True}, actual=1.0,
                   planned=0.92, label="On track"),
    ]
    return BriefingInputs(
        area_code=AREA, area_name_zh="市北区", area_name_en="Shibei District",
        month=month, observations=observations(), indicators=INDICATORS,
        index=index_results(), index_code="CGI", index_vintage=VINTAGE, pillars=PILLARS,
        children=CHILDREN, targets=targets, annual=annual(),
        index_indicators=frozenset({"ECO_RETAIL_SALES", "IND_NEW_ENTITIES", "APP_PM25"}),
        key_figures=key_figures(), indicator_targets={"GOV_CASE_ONTIME_RATE": 95.0},
        departments=DEPARTMENTS, framework="CGI 2026.1", timezone=TZ,
    )
