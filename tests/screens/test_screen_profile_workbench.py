"""The big screen's summary, area profiles and the workbench on a computed index."""

from __future__ import annotations

from fastapi.testclient import TestClient

from citygrowth.index.service import read_results
from citygrowth.runtime import build_runtime
from citygrowth.settings import Settings
from tests.factories import DISTRICT, STREET_A, STREET_B
from tests.screens.conftest import login


def test_summary_map_and_ranking_equal_the_stored_results(client: TestClient,
                                                          indexed: Settings) -> None:
    login(client, "leader")
    d = client.get(f"/api/screen/summary?level=street&parent={DISTRICT}").json()
    assert d["ok"] is True, d
    assert d["period"] == "2025" and d["previous_period"] == "2024"
    stored = read_results(build_runtime(indexed), level="street", period="2025")
    cgi = stored[stored["code"] == "CGI"].set_index("unit")["value"]
    items = {i["code"]: i for i in d["map_items"]}
    assert items[STREET_A]["value"] == round(float(cgi[STREET_A]), 2)
    assert items[STREET_B]["value"] == round(float(cgi[STREET_B]), 2)
    # the map option carries exactly these numbers, keyed by area code
    drawn = {x["name"]: x["value"] for x in d["options"]["map"]["series"][0]["data"]}
    assert drawn == {c: i["value"] for c, i in items.items()}
    # ranks and movement between 2024 and 2025
    before = read_results(build_runtime(indexed), level="street", period="2024")
    b = before[before["code"] == "CGI"].set_index("unit")["value"]
    best_now = max(cgi.index, key=lambda u: cgi[u])
    best_before = max(b.index, key=lambda u: b[u])
    assert items[best_now]["rank"] == 1
    assert items[best_now]["move"] == (0 if best_now == best_before else 1)
    assert [a["code"] for a in d["radar"]["axes"]] == ["ECO", "IND", "APP", "SOC", "GOV"]
    assert len(d["metrics"]) > 40


def test_summary_by_indicator_reads_the_store(client: TestClient, indexed: Settings) -> None:
    login(client, "leader")
    d = client.get(f"/api/screen/summary?parent={DISTRICT}&metric=APP_MUSEUMS").json()
    assert {i["code"]: i["value"] for i in d["map_items"]} == {STREET_A: 3.0, STREET_B: 4.0}
    assert d["metric"]["unit"] == "个" or d["metric"]["unit"]


def test_summary_refuses_a_level_that_is_not_below_the_parent(client: TestClient,
                                                              indexed: Settings) -> None:
    login(client, "leader")
    r = client.get(f"/api/screen/summary?level=grid&parent={DISTRICT}")
    assert r.status_code == 422 and r.json()["code"] == "bad_level"


def test_street_commander_cannot_open_another_streets_screen(client: TestClient,
                                                            indexed: Settings) -> None:
    login(client, "streeta")
    assert client.get(f"/api/screen/summary?level=community&parent={STREET_A}").status_code == 200
    r = client.get(f"/api/screen/summary?level=community&parent={STREET_B}")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_street_staff_see_their_own_streets_screen(client: TestClient,
                                                   indexed: Settings) -> None:
    """docs/screens.md: street command-center staff see the big screen, of their street."""
    login(client, "streeta")
    page = client.get("/screen")
    assert page.status_code == 200
    assert f'data-district="{STREET_A}"' in page.text and 'data-level="community"' in page.text
    d = client.get("/api/screen/summary").json()  # no parent: the viewer's own street
    assert d["parent"] == STREET_A and d["level"] == "community"
    assert all(i["code"].startswith(STREET_A) for i in d["map_items"])
    assert client.get(f"/api/screen/summary?level=street&parent={DISTRICT}").status_code == 403


def test_resident_has_no_big_screen(client: TestClient, indexed: Settings) -> None:
    login(client, "resident")
    assert client.get("/api/screen/summary").status_code == 403


def test_profile_explains_the_last_change(client: TestClient, indexed: Settings) -> None:
    login(client, "leader")
    p = client.get(f"/api/profile/{STREET_A}").json()
    assert p["level"] == "street" and p["period"] == "2025"
    stored = read_results(build_runtime(indexed), level="street", period="2025")
    row = stored[(stored["code"] == "CGI") & (stored["unit"] == STREET_A)]
    assert p["index"] == float(row["value"].iloc[0])
    assert p["rank"]["rank"] == int(row["rank"].iloc[0]) and p["rank"]["of"] == 2
    interval = client.get(f"/api/profile/{STREET_A}/rank-interval").json()
    assert interval["rank"] == p["rank"]["rank"]
    assert 1 <= interval["q05"] <= interval["median"] <= interval["q95"] <= 2
    contributions = sum(d["contribution"] for d in p["drivers"])
    assert abs(contributions - p["index_change"]) < 0.05
    assert p["strengths"] and p["weaknesses"]
    page = client.get(f"/profile/{STREET_A}")
    assert page.status_code == 200 and "街道1" in page.text


def test_workbench_preview_moves_scores_when_weights_change(client: TestClient,
                                                            indexed: Settings) -> None:
    login(client, "leader")
    state = client.get("/api/workbench?level=street").json()
    root = next(n for n in state["tree"] if n["code"] == "CGI")
    assert [c["code"] for c in root["children"]] == ["ECO", "IND", "APP", "SOC", "GOV"]
    token = client.cookies.get("citygrowth_session")
    assert token
    csrf = _csrf(client)
    same = client.post("/api/workbench/preview", json={"level": "street"},
                       headers={"X-CSRF-Token": csrf}).json()
    assert all(r["value_a"] == r["value_b"] for r in same["rows"])
    only_app = {"ECO": 0, "IND": 0, "APP": 1, "SOC": 0, "GOV": 0}
    d = client.post("/api/workbench/preview", json={"level": "street",
                                                    "weights": {"CGI": only_app}},
                    headers={"X-CSRF-Token": csrf}).json()
    by = {r["unit"]: r for r in d["rows"]}
    # with all weight on urban appeal, street B (more museums) comes first
    assert by[STREET_B]["rank_b"] == 1
    bad = client.post("/api/workbench/preview", json={"weights": {"CGI": {"NOPE": 1}}},
                      headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 422 and "NOPE" in bad.json()["error"]
    y = client.post("/api/workbench/export?version=2026.2", json={"weights": {"CGI": only_app}},
                    headers={"X-CSRF-Token": csrf})
    assert y.status_code == 200 and 'version: \'2026.2\'' in y.text


def _csrf(client: TestClient) -> str:
    import re

    page = client.get("/workbench")
    assert page.status_code == 200
    m = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
    assert m
    return m.group(1)


def test_workbench_sensitivity_names_each_choice(client: TestClient, indexed: Settings) -> None:
    login(client, "leader")
    d = client.get("/api/workbench/sensitivity?level=street").json()
    assert d.get("ok") is True, d
    assert [i["factor"] for i in d["indices"]] == ["weights", "aggregation", "normalisation"]
    assert d["replications"] == 16 * (3 + 2)
    assert all(i["total"] is None or i["total"] >= -0.05 for i in d["indices"])
    assert len(d["option"]["series"]) == 2
