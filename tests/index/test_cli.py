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
    assert set(u.columns) == {"unit", "period", "nominal", "median", "q05", "q95"}
    assert (u["q05"] <= u["median"]).all() and (u["median"] <= u["q95"]).all()
    text = invoke("explain", str(HDI), "--data", str(data_csv), "--unit", "NER", "--from",
                  "2018", "--to", "2019")
    assert "GNIpc" in text and "Change:" in text
