"""Command-center pages, mobile pages, chart options, twins and the CLI."""

from __future__ import annotations

from click.testing import CliRunner

from citygrowth.governance.charts import case_points, ontime_trend_option, open_status_option
from tests.governance.conftest import POS_A, POS_B, Web


def _seed(web: Web) -> dict[str, int]:
    ids = {}
    for who, pos in (("worker_a", POS_A), ("worker_b", POS_B)):
        r = web.client.post("/api/cases", headers=web.h(who),
                            json={"category_code": "E0101", "lat": pos[1], "lon": pos[0],
                                  "description": f"{who} 的报告"})
        ids[who] = r.json()["id"]
    return ids


def test_chart_options_are_plain_dicts() -> None:
    cases = [{"id": 1, "status": "dispatched", "lon": 120.3, "lat": 36.05, "category": "垃圾",
              "status_label": "已派遣", "area": "网格一", "overdue": True},
             {"id": 2, "status": "closed", "lon": None, "lat": None, "category": "x",
              "status_label": "已结案", "area": "", "overdue": False}]
    pts = case_points(cases)
    assert [p["id"] for p in pts] == [1]  # no position, no point
    assert pts[0]["alert"] is True and pts[0]["color"] == "#7b3fa0"
    assert pts[0]["title"] == "#1 垃圾 · 已派遣 · 逾期 · 网格一"
    q = open_status_option({"reported": 3, "handling": 2, "closed": 900, "cancelled": 40})
    labels = q["xAxis"]["data"]
    assert "已结案" not in labels and "已作废" not in labels  # open cases only
    assert len(labels) == 7 and q["series"][0]["data"][0]["value"] == 3
    assert labels[3] == "处置中" and q["series"][0]["data"][3]["value"] == 2
    assert sum(d["value"] for d in q["series"][0]["data"]) == 5
    t = ontime_trend_option([{"code": "A", "month": "2026-09", "ontime_rate": 0.9},
                             {"code": "A", "month": "2026-10", "ontime_rate": None}])
    assert t["xAxis"]["data"] == ["2026-09", "2026-10"]
    assert t["series"][0]["data"] == [0.9, None]


def test_command_centers_are_scoped(web: Web) -> None:
    ids = _seed(web)
    c = web.client
    page = c.get("/command", headers=web.h("admin"))
    assert page.status_code == 200
    assert "worker_a 的报告" not in page.text  # descriptions are on the case page only
    assert f'href="/command/cases/{ids["worker_b"]}"' in page.text
    street = c.get("/command/street/370203001", headers=web.h("cmd_a"))
    assert f'href="/command/cases/{ids["worker_a"]}"' in street.text
    assert f'href="/command/cases/{ids["worker_b"]}"' not in street.text
    own = c.get("/command", headers=web.h("cmd_a")).text
    assert f'href="/command/cases/{ids["worker_b"]}"' not in own
    case = c.get(f"/command/cases/{ids['worker_a']}", headers=web.h("cmd_a"))
    assert case.status_code == 200 and 'data-testid="act-register"' in case.text
    assert c.get(f"/command/cases/{ids['worker_b']}", headers=web.h("cmd_a")).status_code == 404
    dept = c.get("/command/department", headers=web.h("urban"))
    assert dept.status_code == 200 and 'href="/command/cases/' not in dept.text
    for q in ("open", "overdue", "warning", "supervised", "pending"):
        assert c.get(f"/command?queue={q}", headers=web.h("admin")).status_code == 200
    assert c.get("/command?queue=bogus", headers=web.h("admin")).status_code == 422
    csv_text = c.get("/api/cases.csv", headers=web.h("cmd_a")).text
    assert csv_text.splitlines()[0].startswith("\ufeff编号,状态,类别代码")
    assert len(csv_text.splitlines()) == 2
    counts = c.get("/api/cases/queues", headers=web.h("admin")).json()["counts"]
    assert counts["reported"] == 2


def test_case_page_form_actions(web: Web) -> None:
    ids = _seed(web)
    c = web.client
    r = c.post(f"/command/cases/{ids['worker_a']}/act", headers=web.h("cmd_a"),
               data={"action": "register"}, follow_redirects=False)
    assert r.status_code == 303
    r = c.post(f"/command/cases/{ids['worker_a']}/act", headers=web.h("cmd_a"),
               data={"action": "dispatch", "department_code": "ecology"},
               follow_redirects=False)
    assert r.status_code == 303
    case = c.get(f"/api/cases/{ids['worker_a']}", headers=web.h("admin")).json()["case"]
    assert case["department_code"] == "ecology" and case["due_at"]


def test_mobile_and_evaluation_pages(web: Web) -> None:
    ids = _seed(web)
    c = web.client
    patrol = c.get("/m/patrol", headers=web.h("worker_a"))
    assert patrol.status_code == 200 and "/static/governance/patrol.js" in patrol.text
    assert c.get("/static/governance/patrol.js").status_code == 200
    for who, action in (("cmd_a", "register"), ("cmd_a", "dispatch"), ("urban", "accept"),
                        ("urban", "handle")):
        c.post(f"/api/cases/{ids['worker_a']}/actions/{action}", headers=web.h(who), json={})
    tasks = c.get("/m/tasks", headers=web.h("worker_a"))
    assert f'data-testid="verify-{ids["worker_a"]}"' in tasks.text
    assert "剩余" not in tasks.text  # handled: the department's clock has stopped
    officer = c.get("/m/tasks", headers=web.h("urban")).text
    assert f'data-testid="verify-{ids["worker_a"]}"' not in officer
    manifest = c.get("/m/manifest.webmanifest")
    assert manifest.headers["content-type"] == "application/manifest+json"
    assert manifest.json()["scope"] == "/m/" and manifest.json()["display"] == "standalone"
    sw = c.get("/m/sw.js")
    assert sw.headers["content-type"].startswith("text/javascript")
    assert sw.headers["service-worker-allowed"] == "/m/" and "__VERSION__" not in sw.text
    assert 'var ROOT = "";' in sw.text
    r = c.post(f"/m/tasks/{ids['worker_a']}/verify", headers=web.h("worker_a"),
               data={"outcome": "fail", "note": "没清完"}, follow_redirects=False)
    assert r.status_code == 303
    state = c.get(f"/api/cases/{ids['worker_a']}", headers=web.h("admin")).json()["case"]
    assert state["status"] == "dispatched" and state["rework_count"] == 1
    ev = c.get("/command/evaluation", headers=web.h("admin"))
    assert ev.status_code == 200 and 'data-testid="eval-street"' in ev.text
    js = c.get("/api/cases/evaluation?level=street", headers=web.h("admin")).json()
    assert {r["level"] for r in js["items"]} == {"street"}
    assert c.get("/api/cases/evaluation.csv", headers=web.h("admin")).text.startswith(
        "\ufeff层级,")
    assert c.get("/api/cases/evaluation?month=2026-13", headers=web.h("admin")).status_code \
        == 422
    assert c.get("/help", headers=web.h("helper")).status_code == 200


def test_cli(web: Web, settings: object, monkeypatch: object) -> None:
    from citygrowth.cli.main import main

    env = {"CITYGROWTH_DATABASE_URL": settings.resolved_database_url,  # type: ignore[attr-defined]
           "CITYGROWTH_DATA_DIR": str(settings.data_dir)}  # type: ignore[attr-defined]
    _seed(web)
    runner = CliRunner()
    r = runner.invoke(main, ["--lang", "en", "cases", "queues"], env=env)
    assert r.exit_code == 0 and "reported\t2" in r.output
    r = runner.invoke(main, ["--lang", "en", "cases", "escalate"], env=env)
    assert r.exit_code == 0 and "0 cases escalated." in r.output
    r = runner.invoke(main, ["cases", "evaluate", "--month", "2026-13", "--no-store"], env=env)
    assert r.exit_code != 0
    r = runner.invoke(main, ["--lang", "en", "cases", "taxonomy"], env=env)
    assert "E0101" in r.output and "0 categories added." in r.output
