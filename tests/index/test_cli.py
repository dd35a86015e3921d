"""``citygrowth index run`` and friends on files, as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from citygrowth.cli import main
from tests.conftest import DATA

HDI = DATA / "index" / "hdi.yaml"
ROWS = {  # HDR 2020 (2019 data) and HDR 2019 (2018 data), Table 1
    ("NOR", "2019"): (82.4, 18.1, 12.9, 66494), ("NER", "2019"): (62.4, 6.5, 2.1, 1201),
    ("DEU", "2019"): (81.3, 17.0, 14.2, 55314), ("NOR", "2018"): (82.3, 18.1, 12.6, 68059),
    ("NER", "2018"): (62.0, 6.5, 2.0, 912), ("DEU", "2018"): (81.2, 17.1, 14.1, 46946),
}


@pytest.fixture
def data_csv(tmp_path: Path) -> Path:
    rows = [(u, p, code, v) for (u, p), vals in ROWS.items()
            for code, v in zip(["LE", "EYS", "MYS", "GNIpc"], vals, strict=True)]
    path = tmp_path / "hdi.csv"
    pd.DataFrame(rows, columns=["unit", "period", "indicator", "value"]).to_csv(path,
                                                                               index=False)
    return path


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, ["--lang", "en", "index", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_run_writes_every_node_and_stages(data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    text = invoke("run", str(HDI), "--data", str(data_csv), "--out", str(out),
                  "--stages", str(tmp_path / "stages"))
    assert "3 units" in text
    res = pd.read_csv(out, dtype={"period": str})
    assert list(res.columns) == ["unit", "period", "code", "value"]
    assert set(res["code"]) == {"HDI", "health", "education", "income", "LE", "EYS", "MYS",
                                "GNIpc"}
    hdi = res[(res.code == "HDI") & (res.period == "2019")].set_index("unit")["value"]
    assert round(hdi["NOR"], 3) == 0.957 and round(hdi["NER"], 3) == 0.394
    stages = sorted(p.name for p in (tmp_path / "stages").iterdir())
    assert stages == ["Aggregated.csv", "Normalised.csv", "Raw.csv", "log.json"]


def test_run_with_a_setting_changed(data_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "arith.csv"
    invoke("run", str(HDI), "--data", str(data_csv), "--out", str(out),
           "--set", "aggregate.nodes.HDI.method=arithmetic")
    res = pd.read_csv(out, dtype={"period": str}).set_index(["unit", "period", "code"])
    ner = res["value"].loc[("NER", "2019")]
    assert res["value"].loc[("NER", "2019", "HDI")] == pytest.approx(
        (ner["health"] + ner["education"] + ner["income"]) / 3)


def test_bad_data_file_is_explained(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,period,indicator,value\nNOR,2019,LE,eighty\n", "utf-8")
    result = CliRunner().invoke(main, ["--lang", "en", "index", "run", str(HDI), "--data",
                                       str(bad), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code != 0
    assert "row=2, field=value: Not a number." in result.output
    assert "Traceback" not in result.output


def test_audit_uncertainty_explain_on_files(data_csv: Path, tmp_path: Path) -> None:
    text = invoke("audit", str(HDI), "--data", str(data_csv), "--out",
                  str(tmp_path / "a.json"))
    assert "education: alpha=" in text
    text = invoke("uncertainty", str(HDI), "--data", str(data_csv), "--runs", "20",
                  "--weights-noise", "0.2", "--factor",
                  "aggregate.nodes.HDI.method=arithmetic,geometric",
                  "--out", str(tmp_path / "u.csv"))
    u = pd.read_csv(tmp_path / "u.csv", dtype={"period": str})
    assert set(u.columns) == {"unit", "period", "nominal", "median", "q05", "q95", "zero_share"}
    assert (u["q05"] <= u["median"]).all() and (u["median"] <= u["q95"]).all()
    text = invoke("explain", str(HDI), "--data", str(data_csv), "--unit", "NER", "--from",
                  "2018", "--to", "2019")
    assert "GNIpc" in text and "Change:" in text


STAGED = """
code: S
tree:
  - code: S
    children:
      - code: P
        children: [{code: a}, {code: b, direction: -1}, {code: c, weight: 2}]
      - code: Q
        children: [{code: d}, {code: e, goalposts: [0, 50]}]
index:
  impute: {method: [linear, mean]}
  treat: {method: winsorise, winmax: 3}
  normalise: {method: minmax, range: [0, 100], overrides: {e: {method: goalposts},
              d: {method: zscore, mean: 50, sd: 10}}}
  weights: {method: fixed, nodes: {S: {method: ahp, matrix: [[1, 3], [0.3333333333, 1]]}}}
  aggregate: {method: arithmetic, nodes: {Q: {method: geometric, zeros: shift}}}
"""


def test_stage_log_carries_every_steps_parameters_and_results(tmp_path: Path) -> None:
    import json

    import numpy as np

    rng = np.random.default_rng(5)
    rows = [(f"u{u}", str(p), code, float(v)) for u in range(12) for p in (2024, 2025)
            for code, v in zip("abcde", rng.lognormal(2, 0.6, 5), strict=True)]
    rows = [r for r in rows if not (r[0] == "u3" and r[2] == "a")]  # a gap to impute
    rows.append(("u7", "2025", "c", 10_000.0))  # an outlier to winsorise
    rows = [r for r in rows if not (r[0] == "u7" and r[1] == "2025" and r[2] == "c"
                                    and r[3] != 10_000.0)]
    data = tmp_path / "d.csv"
    pd.DataFrame(rows, columns=["unit", "period", "indicator", "value"]).to_csv(data,
                                                                              index=False)
    fw = tmp_path / "s.yaml"
    fw.write_text(STAGED, "utf-8")
    invoke("run", str(fw), "--data", str(data), "--out", str(tmp_path / "o.csv"),
           "--stages", str(tmp_path / "st"))
    log = {e["step"]: e for e in json.loads((tmp_path / "st" / "log.json").read_text())}
    assert list(log) == ["raw", "impute", "treat", "normalise", "aggregate"]
    assert log["raw"]["info"]["units"] == 12 and log["raw"]["info"]["missing_values"] == 2
    imp = log["impute"]["info"]
    assert imp["filled"] == 2 and imp["by_indicator"] == {"a": 2}
    assert imp["by_method"] == {"linear": 0, "mean": 2}  # u3 has no a at all: no line
    treat = log["treat"]["info"]
    assert treat["summary"]["c"]["treatment"] == "winsorised"
    assert treat["summary"]["c"]["winsorised"] >= 1 and treat["totals"]["winsorised"] >= 1
    norm = log["normalise"]["info"]["settings"]
    assert norm["b"]["method"] == "minmax" and norm["b"]["direction"] == -1
    assert norm["d"]["method"] == "zscore" and norm["d"]["sd"] == 10
    assert set(norm["d"]["statistics"]["2025"]) == {"n", "min", "max", "mean", "sd"}
    assert norm["e"]["method"] == "goalposts" and norm["e"]["goalposts"] == [0.0, 50.0]
    agg = log["aggregate"]["info"]
    root = agg["nodes"]["S"]
    assert root["weighting"]["method"] == "ahp" and root["weighting"]["consistent"] is True
    assert root["weighting"]["cr"] == pytest.approx(0.0, abs=1e-6)
    assert root["shares"]["P"] == pytest.approx(0.75, abs=1e-6)
    assert agg["nodes"]["P"]["weights"] == {"a": 1.0, "b": 1.0, "c": 2.0}
    assert agg["nodes"]["P"]["shares"]["c"] == pytest.approx(0.5)
    assert agg["nodes"]["Q"]["settings"] == {"method": "geometric", "zeros": "shift"}
    assert agg["effective_weights"]["c"] == pytest.approx(0.75 * 0.5, abs=1e-6)
    assert agg["warnings"] == []


def test_run_warns_when_zeros_decide_a_geometric_mean(data_csv: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--lang", "en", "index", "run", str(HDI), "--data",
                                       str(data_csv), "--out", str(tmp_path / "o.csv"),
                                       "--set", "normalise.method=minmax"])
    assert result.exit_code == 0, result.output
    assert "Warning: Geometric mean of HDI" in result.output
    assert "aggregate.zeros=shift" in result.output
    result = CliRunner().invoke(main, ["--lang", "en", "index", "run", str(HDI), "--data",
                                       str(data_csv), "--out", str(tmp_path / "o.csv"),
                                       "--set", "normalise.method=minmax",
                                       "--set", "normalise.range=[1,100]"])
    assert result.exit_code == 0 and "Warning" not in result.output
