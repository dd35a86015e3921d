"""Chart options are pure dicts with the numbers they were given."""

from __future__ import annotations

import json

from citygrowth.screens import charts


def test_choropleth_matches_areas_by_code_and_spans_the_values() -> None:
    opt = charts.choropleth("streets", [
        {"code": "370203001", "name": "街道1", "value": 61.5},
        {"code": "370203002", "name": "街道2", "value": 48.0},
        {"code": "370203003", "name": "街道3", "value": None},
    ], unit="分")
    series = opt["series"][0]
    assert series["map"] == "streets" and series["nameProperty"] == "code"
    assert [d["name"] for d in series["data"]] == ["370203001", "370203002", "370203003"]
    assert opt["visualMap"]["min"] == 48.0 and opt["visualMap"]["max"] == 61.5
    json.dumps(opt)  # serialisable


def test_choropleth_with_one_value_still_has_a_range() -> None:
    opt = charts.choropleth("m", [{"code": "1", "value": 5}])
    assert opt["visualMap"]["min"] < 5 < opt["visualMap"]["max"]


def test_radar_keeps_axis_order() -> None:
    opt = charts.radar(
        [{"code": "ECO", "name": "经济实力"}, {"code": "GOV", "name": "治理能力"}],
        [{"name": "2025", "values": [70.1, 55.2]}],
    )
    assert [i["name"] for i in opt["radar"]["indicator"]] == ["经济实力", "治理能力"]
    assert opt["series"][0]["data"][0]["value"] == [70.1, 55.2]


def test_ranking_puts_the_best_on_top_with_movement_arrows() -> None:
    opt = charts.ranking([
        {"name": "A", "value": 50, "move": -1},
        {"name": "B", "value": 70, "move": 2},
        {"name": "C", "value": None, "move": 0},
    ])
    # ECharts draws the last category at the top
    assert opt["yAxis"]["data"][-1] == "B ▲2"
    assert opt["yAxis"]["data"][-2] == "A ▼1"
    assert opt["series"][0]["data"][-1] == 70


def test_trend_band_is_drawn_as_lower_plus_width() -> None:
    opt = charts.trend(["2024", "2025"], [{"name": "GDP", "values": [1.0, 2.0]}],
                       band={"lower": [0.5, 1.5], "upper": [1.5, 3.0]})
    names = [s["name"] for s in opt["series"]]
    assert names == ["GDP", "lower", "band"]
    assert opt["series"][2]["data"] == [1.0, 1.5]
