"""Anomaly checks catch planted errors and leave clean data alone."""

from __future__ import annotations

import json

import pandas as pd

from citygrowth.analysis.anomaly import check_batch
from tests.analysis.synth import CATALOG, STREETS, clean_panel


def _split(df: pd.DataFrame, cut: str = "2025-07") -> tuple[pd.DataFrame, pd.DataFrame]:
    return df[df.period >= cut].copy(), df[df.period < cut].copy()


def _plant(frame: pd.DataFrame, ind: str, area: str, period: str, fn) -> None:  # type: ignore[no-untyped-def]
    i = frame.index[(frame.indicator == ind) & (frame.area_code == area)
                    & (frame.period == period)][0]
    frame.loc[i, "value"] = fn(frame.loc[i, "value"])


def test_clean_data_is_not_flagged() -> None:
    for seed in (1, 2, 3):
        new, hist = _split(clean_panel(seed))
        assert check_batch(new, hist, CATALOG, None) == []


def test_planted_unit_slip_spike_and_impossible_value_are_caught() -> None:
    new, hist = _split(clean_panel(5))
    _plant(new, "GDP", STREETS[2], "2025-09", lambda v: v * 10000)
    _plant(new, "RETAIL", STREETS[4], "2025-10", lambda v: v * 1.6)
    _plant(new, "DOCTOR_COVER", STREETS[5], "2025-11", lambda v: 130.0)
    warnings = check_batch(new, hist, CATALOG, None)
    got = {(w.kind, w.indicator, w.area_code, w.period) for w in warnings}
    assert got == {
        ("unit_slip", "GDP", STREETS[2], "2025-09"),
        ("jump", "RETAIL", STREETS[4], "2025-10"),
        ("impossible", "DOCTOR_COVER", STREETS[5], "2025-11"),
    }
    slip = next(w for w in warnings if w.kind == "unit_slip")
    assert "10,000" in slip.render("en") and "10,000" in slip.render("zh_CN")
    assert "单位" in slip.render("zh_CN")
    assert slip.to_dict("en")["kind_name"] == "Probable unit slip"


def test_a_whole_batch_in_the_wrong_unit_is_caught_without_history() -> None:
    new, _hist = _split(clean_panel(9))
    new = new[new.period == "2025-07"].copy()
    _plant(new, "GDP", STREETS[0], "2025-07", lambda v: v / 10000)
    warnings = check_batch(new, None, CATALOG, None)
    assert [(w.kind, w.area_code) for w in warnings] == [("unit_slip", STREETS[0])]
    assert "1/10,000" in warnings[0].render("en")


def test_broken_seasonality_is_caught() -> None:
    new, hist = _split(clean_panel(4))
    sel = (new.indicator == "RETAIL") & (new.area_code == STREETS[1])
    new.loc[sel, "value"] = float(new.loc[sel, "value"].mean())  # flat: season lost
    warnings = check_batch(new, hist, CATALOG, None)
    kinds = {(w.kind, w.area_code) for w in warnings if w.indicator == "RETAIL"}
    assert ("seasonality", STREETS[1]) in kinds


def _square(x: float) -> str:
    ring = [[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def test_a_street_out_of_line_with_its_neighbours() -> None:
    rows = []
    for k, street in enumerate(STREETS):
        for p, v in (("2022", 100.0), ("2023", 105.0), ("2024", 110.0)):
            rows.append(("GDP", street, p, v * (1 + 0.001 * k)))
    hist = pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value"])
    new = pd.DataFrame([("GDP", s, "2025", 115.0 * (1 + 0.001 * k)) for k, s in
                        enumerate(STREETS)], columns=hist.columns)
    new.loc[3, "value"] = 160.0
    areas = [{"code": s, "parent_code": "370203", "level": "street", "geometry": _square(i)}
             for i, s in enumerate(STREETS)]
    warnings = check_batch(new, hist, CATALOG, areas)
    assert [(w.kind, w.area_code) for w in warnings] == [("spatial", STREETS[3])]
    assert "neighbours" in warnings[0].render("en")


def test_the_demo_districts_clean_data_is_not_flagged_but_a_slip_in_it_is(
        sqlite_session) -> None:  # type: ignore[no-untyped-def]
    from citygrowth.catalog.framework import builtin_framework
    from citygrowth.observatory.demo import area_frame, generate
    from tests.factories import DISTRICT, make_areas

    areas = make_areas(sqlite_session)
    fw = builtin_framework()
    data = generate(area_frame(sqlite_session, DISTRICT), fw)
    data["period"] = data["period"].astype(str)
    new = data[data["period"].str.startswith("2026")].copy()
    hist = data.drop(new.index)
    assert len(new) > 500
    assert check_batch(new, hist, fw, areas.values()) == []
    i = new.index[(new.indicator == "ECO_RETAIL_SALES") & (new.area_code == "370203001")][0]
    new.loc[i, "value"] *= 10000
    found = check_batch(new, hist, fw, areas.values())
    assert [(w.kind, w.indicator, w.area_code) for w in found] == [
        ("unit_slip", "ECO_RETAIL_SALES", "370203001")]
