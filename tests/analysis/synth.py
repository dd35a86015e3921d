"""Clean synthetic series like the demo's: steady growth, mild seasonality, 1 % noise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from citygrowth.periods import Period

STREETS = [f"370203{i:03d}" for i in range(1, 9)]
CATALOG = {
    "GDP": {"unit": "万元", "name_zh": "地区生产总值", "name_en": "GDP"},
    "RETAIL": {"unit": "万元", "name_zh": "社会消费品零售总额", "name_en": "Retail sales"},
    "DOCTOR_COVER": {"unit": "%", "name_zh": "家庭医生签约覆盖率",
                     "name_en": "Family-doctor coverage"},
}


def months(start: str, n: int) -> list[str]:
    p = Period.parse(start)
    return [str(p.shift(i)) for i in range(n)]


def quarters(start: str, n: int) -> list[str]:
    return months(start, n)


def clean_panel(seed: int = 7, n: int = 60, start: str = "2021-01") -> pd.DataFrame:
    """Monthly panel of three indicators for eight streets, no anomalies."""
    rng = np.random.default_rng(seed)
    rows = []
    for ind, base, season in (("GDP", 500.0, 0.0), ("RETAIL", 60.0, 0.15),
                              ("DOCTOR_COVER", 45.0, 0.0)):
        for street in STREETS:
            level = base * rng.uniform(0.6, 1.4)
            for i, m in enumerate(months(start, n)):
                v = level * 1.004**i * (1 + season * np.sin(2 * np.pi * i / 12))
                rows.append((ind, street, m, v * np.exp(rng.normal(0, 0.01))))
    return pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value"])
