"""Numbers for briefing tests: observations, index results, targets — all known in advance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from citygrowth.analysis.briefing.compose import BriefingInputs, TargetOdds
from citygrowth.analysis.meta import IndicatorInfo
from tests.analysis.synth import months

AREA = "370203"
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
    "SOC_VOLUNTEERS": IndicatorInfo("SOC_VOLUNTEERS", "注册志愿者人数", "Volunteers", "人"),
}
PILLARS = {"ECO": ("经济实力", "Economic strength"), "GOV": ("治理能力", "Governance capacity")}


def observations() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    rows = []
    ms = months("2025-01", 22)  # up to 2026-10
    for code, base, step in (("ECO_RETAIL_SALES", 60.0, 0.5), ("IND_NEW_ENTITIES", 900, 5),
                             ("APP_PM25", 30.0, -0.1), ("GOV_CASE_ONTIME_RATE", 91.0, 0.1)):
        for i, m in enumerate(ms):
            rows.append((code, AREA, m, round(base + step * i + rng.normal(0, abs(step)), 3),
                         "2026-11-03 08:00:00+00:00"))
    for y, v in (("2023", 120000.0), ("2024", 130000.0)):  # stale annual indicator
        rows.append(("SOC_VOLUNTEERS", AREA, y, v, "2025-02-01 08:00:00+00:00"))
    return pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value", "vintage"])


def index_results() -> pd.DataFrame:
    rows = []
    for unit, bump in ((AREA, 0.0), ("370203001", 2.0), ("370203002", -1.5),
                       ("370203003", 0.3)):
        for i, m in enumerate(months("2025-11", 12)):
            rows.append((unit, m, "CGI", 60 + 0.4 * i + (bump if m == "2026-10" else 0.0), 1))
            rows.append((unit, m, "ECO", 58 + 0.6 * i, 1))
            rows.append((unit, m, "GOV", 70 - 0.2 * i, 1))
    return pd.DataFrame(rows, columns=["unit", "period", "code", "value", "rank"])


def inputs() -> BriefingInputs:
    targets = [
        TargetOdds("T_PARKING", "新增停车泊位4000个", "Add 4,000 parking spaces", 4000, "个",
                   "2026-12-31", 0.42, "red", {"indicator": "APP_PARKING_ADDED"}),
        TargetOdds("T_DOCTOR", "家庭医生签约覆盖率60%", "Family-doctor coverage 60%", 60, "%",
                   "2026-12-31", 0.93, "green", {}),
    ]
    return BriefingInputs(
        area_code=AREA, area_name_zh="市北区", area_name_en="Shibei District",
        month="2026-10", observations=observations(), indicators=INDICATORS,
        index=index_results(), index_code="CGI", index_vintage="2026-11-03", pillars=PILLARS,
        children=CHILDREN, targets=targets,
    )
