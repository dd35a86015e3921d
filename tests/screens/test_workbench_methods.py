"""The workbench names its methods in the reader's language, warns when zeros decide ranks
under a geometric mean and offers remedies that work, and offers the raw decision matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from citygrowth.index.names import METHOD_NAMES
from citygrowth.screens.workbench import (
    AGGREGATION_METHODS,
    NORMALISATION_METHODS,
    WEIGHTING_METHODS,
)
from citygrowth.settings import Settings
from tests.factories import STREET_A, STREET_B
from tests.screens import conftest
from tests.screens.conftest import login
from tests.screens.test_screen_profile_workbench import _csrf

# each street is the worst of the panel on some indicator in the latest year: under global
# min-max both score 0 on those, and a geometric mean sets their index to 0
WORST_LAST_YEAR = {
    "ECO_FIN_INSTITUTIONS": {STREET_A: [12, 11, 9], STREET_B: [13, 14, 15]},
    "IND_LISTED_COMPANIES": {STREET_A: [5, 4, 3], STREET_B: [5, 6, 7]},
    "APP_MUSEUMS": {STREET_A: [4, 4, 5], STREET_B: [3, 3, 2]},
    "SOC_VOLUNTEER_ORGS": {STREET_A: [25, 27, 30], STREET_B: [24, 22, 20]},
    "GOV_ILLEGAL_BUILDING_REMOVED": {STREET_A: [2.0, 3.0, 4.0], STREET_B: [2.5, 2.0, 1.5]},
}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Settings:
    """The screens' small district, with the values above."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(conftest, "INDICATORS", WORST_LAST_YEAR)
        return conftest.build_indexed(tmp_path_factory.mktemp("zeros"), sqlite_template)


def preview(client: TestClient, csrf: str, **changes: Any) -> dict[str, Any]:
    r = client.post("/api/workbench/preview", json={"level": "street", **changes},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_methods_are_named_in_the_readers_language(client: TestClient,
                                                   indexed: Settings) -> None:
    login(client, "leader")
    zh = client.get("/api/workbench?level=street&lang=zh-CN").json()
    names = {m["code"]: m["name"] for m in zh["methods"]["aggregation"]}
    assert names["geometric"] == "几何平均" and names["topsis"].startswith("TOPSIS")
    assert [m["code"] for m in zh["methods"]["normalisation"]] == list(NORMALISATION_METHODS)
    page = client.get("/workbench?lang=zh-CN").text
    for code in (*NORMALISATION_METHODS, *AGGREGATION_METHODS, *WEIGHTING_METHODS):
        assert f">{code}<" not in page  # an option shows a name, never its code
    assert "最小-最大值标准化" in page and "熵权法" in page and "线性插值" in page
    en = client.get("/workbench?lang=en").text
    assert "Geometric mean" in en and "Entropy weights" in en and "Raw decision matrix" in en
    # every method the engine has is named, in both languages
    for kind, table in METHOD_NAMES.items():
        assert all(isinstance(v, str) and v for v in table.values()), kind


def test_geometric_over_minmax_warns_and_each_remedy_clears_it(client: TestClient,
                                                               indexed: Settings) -> None:
    login(client, "leader")
    csrf = _csrf(client)
    d = preview(client, csrf, normalisation="minmax", aggregation="geometric")
    (w,) = d["warnings"]
    assert w["kind"] == "zeros_decide" and not d["blocked"]
    # two streets, each the worst on some indicator: both at 0, tied at rank 1
    assert set(w["tied"]) == {STREET_A, STREET_B}
    assert {r["rank_b"] for r in d["rows"]} == {1} and all(r["value_b"] == 0 for r in d["rows"])
    assert "街道" in w["detail"] and "APP_MUSEUMS" not in w["detail"]  # names, not codes
    assert [r["kind"] for r in w["remedies"]] == ["shift", "rescale"]
    for remedy in w["remedies"]:
        fixed = preview(client, csrf, **{"normalisation": "minmax", "aggregation": "geometric",
                                         **remedy["form"]})
        assert fixed["warnings"] == []
        assert all(r["value_b"] > 0 for r in fixed["rows"])
        assert sorted(r["rank_b"] for r in fixed["rows"]) == [1, 2]


def test_negative_z_scores_block_a_geometric_mean_with_a_remedy(client: TestClient,
                                                                indexed: Settings) -> None:
    login(client, "leader")
    csrf = _csrf(client)
    d = preview(client, csrf, normalisation="zscore", aggregation="geometric")
    assert d["blocked"] and d["rows"] == []
    (w,) = d["warnings"]
    assert w["kind"] == "negative_in_mean"
    shift = next(r for r in w["remedies"] if r["kind"] == "shift")["form"]
    assert shift["zeros"] == "shift" and shift["shift"] >= 1
    fixed = preview(client, csrf, normalisation="zscore", aggregation="geometric", **shift)
    assert not fixed["blocked"] and len(fixed["rows"]) == 2


def test_weights_and_topsis_on_the_raw_decision_matrix(client: TestClient,
                                                       indexed: Settings) -> None:
    login(client, "leader")
    csrf = _csrf(client)
    d = preview(client, csrf, weighting="critic", matrix="raw", aggregation="topsis",
                topsis_normalisation="vector", imputation="locf")
    assert d["changes"]["weights"]["on"] == "raw" and d["changes"]["aggregate"] == {
        "method": "topsis", "normalisation": "vector", "on": "raw"}
    assert d["changes"]["impute"] == {"method": "locf"}
    assert all(0 <= r["value_b"] <= 1 for r in d["rows"])
    y = client.post("/api/workbench/export?version=2026.9",
                    json={"weighting": "critic", "matrix": "raw", "aggregation": "topsis"},
                    headers={"X-CSRF-Token": csrf})
    index = yaml.safe_load(y.text)["index"]
    assert index["weights"]["on"] == "raw" and index["aggregate"]["on"] == "raw"
    bad = client.post("/api/workbench/preview", json={"normalisation": "dist_ref"},
                      headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 422 and bad.json()["code"] == "bad_method"


def test_simulations_take_a_remedy(client: TestClient, indexed: Settings) -> None:
    login(client, "leader")
    plain = client.get("/api/workbench/analysis?level=street").json()
    assert plain["ok"] and plain["remedy"] is None
    note = plain["zeros"]
    assert note["kind"] == "zeros_in_simulations" and "街道" in note["message"]
    assert [r["kind"] for r in note["remedies"]] == ["shift", "rescale"]
    assert any(u["zero_share"] > 0 for u in plain["uncertainty"])
    assert all(isinstance(f["text"], str) for f in plain["flags"])
    fixed = client.get("/api/workbench/analysis?level=street&remedy=shift").json()
    assert fixed["remedy"] == "shift" and fixed["zeros"] is None and fixed["remedy_label"]
    assert all(u["zero_share"] == 0 for u in fixed["uncertainty"])
    sens = client.get("/api/workbench/sensitivity?level=street&remedy=rescale").json()
    assert sens["remedy"] == "rescale" and sens["zero_replications"] == 0
    assert client.get("/api/workbench/analysis?remedy=nope").status_code == 422
