"""Sub-annual values become one value per year; a year in progress is summed pro rata."""

from __future__ import annotations

import pandas as pd
import pytest

from citygrowth.index.service import annualise


def test_sums_means_and_a_year_in_progress() -> None:
    rows = [("FLOW", "370203001", f"2025-{m:02d}", 10.0) for m in range(1, 13)]
    rows += [("FLOW", "370203001", f"2026-{m:02d}", 10.0) for m in range(1, 11)]  # to October
    rows += [("RATE", "370203001", "2025-Q1", 40.0), ("RATE", "370203001", "2025-Q2", 60.0)]
    rows += [("QFLOW", "370203001", "2026-Q1", 5.0), ("QFLOW", "370203001", "2026-Q2", 7.0)]
    obs = pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value"])
    out = annualise(obs, {"FLOW": "sum", "QFLOW": "sum", "RATE": "mean"})
    got = {(r.indicator, r.period): r.value for r in out.itertuples()}
    assert got[("FLOW", "2025")] == pytest.approx(120.0)
    assert got[("FLOW", "2026")] == pytest.approx(120.0)  # 100 over 10 months, pro rata
    assert got[("RATE", "2025")] == pytest.approx(50.0)
    assert got[("QFLOW", "2026")] == pytest.approx(24.0)  # 12 over 2 quarters
