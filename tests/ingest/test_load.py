from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.auth.actor import system_actor
from citygrowth.errors import Forbidden
from citygrowth.ingest.service import load_file, load_observations, record_rejection
from citygrowth.ingest.validate import CAP, LoadRejected
from citygrowth.observatory.batches import pending_dir, visible_batches
from citygrowth.observatory.models import ObservationLoad
from citygrowth.observatory.store import ObservationStore
from citygrowth.runtime import Runtime
from citygrowth.screens.health import failed_loads
from tests.factories import make_user
from tests.ingest.conftest import DATA

SYSTEM = system_actor("test")
BAD_EXPECTED = [  # (row, column, message)
    (3, "indicator", "Unknown indicator code 'NOPE'."),
    (4, "area_code", "Unknown area code '999999999'."),
    (5, "period", "Period 2024 does not match ECO_GDP, which is quarterly (e.g. 2024-Q3)."),
    (6, "value", "'abc' is not a number."),
    (7, "area_code", "Area 370203001001 is a community, finer than ECO_GDP allows (finest "
                     "level: street)."),
    (8, "unit", "Unit '人' cannot be converted to 亿元, the unit of ECO_GDP."),
    (9, "period", "Duplicate of row 2: ECO_GDP, 370203001, 2024Q1 may appear only once per "
                  "upload."),
    (10, "period", "Period 2099-Q1 has not begun yet."),
    (11, "period", "'20x4' is not a period (use 2024, 2024-Q3 or 2024-09)."),
    (12, "value", "The value is empty."),
    (13, "unit", "Unknown unit 'furlongs'."),
]


def _problems(err: LoadRejected, locale: str = "en") -> list[tuple[int, str, str]]:
    return [(p["row"], p["field"], p["message"]) for p in
            (q.render(locale) for q in err.problems)]


def test_good_csv_is_converted_stored_and_queryable(env: tuple[Session, Runtime]) -> None:
    session, runtime = env
    settings = runtime.settings
    result = load_file(session, runtime, SYSTEM, DATA / "good.csv", source="test")
    session.commit()
    assert result.rows == 6
    assert result.indicators == ["ECO_GDP", "SOC_HELPER_HOURS"]
    df = ObservationStore(settings).query()
    got = {(r.indicator, r.area_code, r.period): r.value for r in df.itertuples()}
    assert got[("ECO_GDP", "370203001", "2024-Q1")] == pytest.approx(100.5)  # 万元 → 亿元
    assert got[("ECO_GDP", "370203001", "2024-Q2")] == 110
    assert got[("SOC_HELPER_HOURS", "370203001001002", "2024-09")] == 48  # 2 天 → 48 小时
    assert set(df["unit"]) == {"亿元", "小时"}
    load = session.scalar(select(ObservationLoad))
    assert load is not None and load.status == "accepted" and len(load.sha256) == 64
    assert load.actor == "test" and load.period_min == "2024-Q1"


def test_bad_csv_names_row_column_and_reason_and_stores_nothing(
        env: tuple[Session, Runtime]) -> None:
    session, runtime = env
    settings = runtime.settings
    with pytest.raises(LoadRejected) as err:
        load_file(session, runtime, SYSTEM, DATA / "bad.csv", source="test")
    assert _problems(err.value) == BAD_EXPECTED
    assert all(p.file == "bad.csv" for p in err.value.problems)
    assert err.value.render_message("en") == "bad.csv: 11 problems found; nothing was loaded."
    session.rollback()
    assert visible_batches(settings) == [] and list(pending_dir(settings).iterdir()) == []
    assert ObservationStore(settings).query().empty


def test_bad_xlsx_reports_spreadsheet_rows(env_sqlite: tuple[Session, Runtime],
                                           tmp_path: Path) -> None:
    session, runtime = env_sqlite
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "data"
    for line in (DATA / "bad.csv").read_text(encoding="utf-8").splitlines():
        ws.append([_cell(v) for v in line.split(",")])
    path = tmp_path / "bad.xlsx"
    wb.save(path)
    with pytest.raises(LoadRejected) as err:
        load_file(session, runtime, SYSTEM, path, source="test")
    assert _problems(err.value) == BAD_EXPECTED
    assert err.value.problems[0].file == "bad.xlsx"


def _cell(v: str) -> object:
    try:
        return float(v) if "." in v else int(v)
    except ValueError:
        return v or None


def test_messages_are_translated_to_chinese(env_sqlite: tuple[Session, Runtime]) -> None:
    session, runtime = env_sqlite
    with pytest.raises(LoadRejected) as err:
        load_file(session, runtime, SYSTEM, DATA / "bad.csv", source="test")
    zh = _problems(err.value, "zh_CN")
    assert zh[0] == (3, "indicator", "未知的指标代码“NOPE”。")
    assert "不能换算" in zh[5][2]
    assert "没有载入" in err.value.render_message("zh_CN")


def test_missing_column_is_named(env_sqlite: tuple[Session, Runtime]) -> None:
    session, runtime = env_sqlite
    frame = pd.DataFrame({"indicator": ["ECO_GDP"], "area_code": ["370203"], "value": [1]})
    with pytest.raises(LoadRejected) as err:
        load_observations(session, runtime, SYSTEM, frame, source="t", file_name="x.csv")
    assert _problems(err.value) == [(1, "period", "Missing column 'period'. The columns must "
                                     "be indicator, area_code, period, value (unit optional).")]


def test_problems_are_capped_and_the_rest_counted(env_sqlite: tuple[Session, Runtime]) -> None:
    session, runtime = env_sqlite
    frame = pd.DataFrame({"indicator": ["NOPE"] * 250, "area_code": ["370203"] * 250,
                          "period": ["2024"] * 250, "value": range(250)})
    with pytest.raises(LoadRejected) as err:
        load_observations(session, runtime, SYSTEM, frame, source="t")
    rendered = [p.render("en")["message"] for p in err.value.problems]
    assert len(rendered) == CAP + 1
    assert rendered[-1] == "… and 50 more problems not shown."


def test_revision_changes_current_view_and_keeps_the_old_vintage(
        env: tuple[Session, Runtime]) -> None:
    session, runtime = env
    settings = runtime.settings
    frame = pd.DataFrame({"indicator": ["ECO_GDP"], "area_code": ["370203001"],
                          "period": ["2024-Q1"], "value": [100.0]})
    first = load_observations(session, runtime, SYSTEM, frame, source="t")
    session.commit()
    second = load_observations(session, runtime, SYSTEM, frame.assign(value=[104.0]),
                               source="t")
    session.commit()
    store = ObservationStore(settings)
    now = store.query(indicators=["ECO_GDP"])
    assert now["value"].tolist() == [104.0] and now["load_id"].tolist() == [second.load_id]
    old = store.query(indicators=["ECO_GDP"], as_of=first.vintage)
    assert old["value"].tolist() == [100.0] and old["load_id"].tolist() == [first.load_id]
    assert len(store.execute(store.all_table())) == 2


def test_rollback_discards_the_batch(env_sqlite: tuple[Session, Runtime]) -> None:
    session, runtime = env_sqlite
    settings = runtime.settings
    bus = runtime.bus
    load_file(session, runtime, SYSTEM, DATA / "good.csv", source="test")
    assert len(list(pending_dir(settings).iterdir())) == 1
    session.rollback()
    assert list(pending_dir(settings).iterdir()) == [] and visible_batches(settings) == []
    assert [e.topic for e in bus.recent] == []


def test_commit_publishes_observations_loaded(env_sqlite: tuple[Session, Runtime]) -> None:
    session, runtime = env_sqlite
    bus = runtime.bus
    result = load_file(session, runtime, SYSTEM, DATA / "good.csv", source="test")
    assert bus.recent == []
    session.commit()
    assert [(e.topic, e.payload["load_id"]) for e in bus.recent] == [
        ("observations.loaded", result.load_id)]


def test_department_officer_loads_only_own_department(env_sqlite: tuple[Session, Runtime]) -> None:
    session, runtime = env_sqlite
    _user, officer = make_user(session, "urban1", ("department_officer", "370203", "urban"))
    ok = pd.DataFrame({"indicator": ["GOV_CASE_SATISFACTION"], "area_code": ["370203001"],
                       "period": ["2024-09"], "value": [95.0]})
    assert load_observations(session, runtime, officer, ok, dataset="urban",
                             source="t").rows == 1
    other = ok.assign(indicator=["SOC_HELPER_HOURS"])
    with pytest.raises(Forbidden) as err:
        load_observations(session, runtime, officer, other, source="t")
    assert err.value.render_message("en") == (
        "Indicator SOC_HELPER_HOURS belongs to department civil; you may load only your own "
        "department's data.")
    with pytest.raises(Forbidden):
        load_observations(session, runtime, officer, other, dataset="civil", source="t")


def test_street_scoped_officer_cannot_load_another_street(
        env_sqlite: tuple[Session, Runtime]) -> None:
    session, runtime = env_sqlite
    _user, officer = make_user(session, "urban2", ("department_officer", "370203001", "urban"))
    frame = pd.DataFrame({"indicator": ["GOV_CASE_SATISFACTION"], "area_code": ["370203002"],
                          "period": ["2024-09"], "value": [95.0]})
    with pytest.raises(Forbidden) as err:
        load_observations(session, runtime, officer, frame, source="t")
    assert err.value.code == "area_out_of_scope"


def test_indicator_outside_the_dataset_is_a_problem(env_sqlite: tuple[Session, Runtime]) -> None:
    session, runtime = env_sqlite
    frame = pd.DataFrame({"indicator": ["ECO_GDP"], "area_code": ["370203"],
                          "period": ["2024-Q1"], "value": [1.0]})
    with pytest.raises(LoadRejected) as err:
        load_observations(session, runtime, SYSTEM, frame, dataset="urban", source="t")
    assert _problems(err.value) == [
        (1, "indicator", "Indicator ECO_GDP does not belong to dataset urban.")]


def test_rejection_is_kept_in_the_history(env: tuple[Session, Runtime]) -> None:
    session, runtime = env
    with pytest.raises(LoadRejected) as err:
        load_file(session, runtime, SYSTEM, DATA / "bad.csv", source="test")
    session.rollback()
    record_rejection(session, SYSTEM, err.value)
    session.commit()
    load = session.scalar(select(ObservationLoad))
    assert load is not None and load.status == "rejected" and load.problem_count == 11
    assert load.problems[0]["row"] == 3 and load.file_name == "bad.csv"


def test_a_refused_file_is_its_departments(env: tuple[Session, Runtime]) -> None:
    """So that the department's officers find it on data health (被退回的批次)."""
    session, runtime = env
    _user, officer = make_user(session, "urban3", ("department_officer", "370203", "urban"))
    with pytest.raises(LoadRejected) as err:  # no dataset named: the uploader's department
        load_file(session, runtime, officer, DATA / "bad.csv", source="test")
    session.rollback()
    record_rejection(session, officer, err.value)
    session.commit()
    assert session.scalar(select(ObservationLoad.department_code)) == "urban"
    assert [f["file_name"] for f in failed_loads(session, {"urban"})] == ["bad.csv"]
    assert failed_loads(session, {"stats"}) == []


def test_gb18030_csv_from_excel_is_read(env_sqlite: tuple[Session, Runtime],
                                        tmp_path: Path) -> None:
    session, runtime = env_sqlite
    path = tmp_path / "gbk.csv"
    path.write_bytes("指标代码,区域代码,时期,数值\nECO_GDP,370203001,2024-Q1,1.5\n"
                     .encode("gb18030"))
    assert load_file(session, runtime, SYSTEM, path, source="t").rows == 1


def test_unknown_extension_is_refused(env_sqlite: tuple[Session, Runtime],
                                      tmp_path: Path) -> None:
    session, runtime = env_sqlite
    path = tmp_path / "x.parquet"
    shutil.copy(DATA / "good.csv", path)
    with pytest.raises(Exception) as err:
        load_file(session, runtime, SYSTEM, path, source="t")
    assert getattr(err.value, "code", "") == "unsupported_file"


@pytest.mark.parametrize("bitmap", [True, False], ids=["bitmap", "hash-count"])
def test_a_duplicate_among_good_rows_is_named_whichever_way_keys_are_counted(
        env_sqlite: tuple[Session, Runtime], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        bitmap: bool) -> None:
    from citygrowth.ingest import validate

    if not bitmap:
        monkeypatch.setattr(validate, "BITMAP_MAX", 0)
    session, runtime = env_sqlite
    settings = runtime.settings
    path = tmp_path / "dup.csv"
    # the same key spelled two ways: 2024Q2 and 2024-Q2 are one period
    path.write_text((DATA / "good.csv").read_text("utf-8")
                    + "ECO_GDP,370203001,2024-Q2,111,\n", "utf-8")
    with pytest.raises(LoadRejected) as err:
        load_file(session, runtime, SYSTEM, path, source="test")
    assert _problems(err.value) == [
        (8, "period", "Duplicate of row 4: ECO_GDP, 370203001, 2024-Q2 may appear only once "
                      "per upload.")]
    session.rollback()
    assert visible_batches(settings) == [] and list(pending_dir(settings).iterdir()) == []


def test_batch_columns_are_plain_typed_parquet(env_sqlite: tuple[Session, Runtime]) -> None:
    """Text columns are written from ENUMs; any Parquet reader sees ordinary strings."""
    import pyarrow.parquet as pq

    session, runtime = env_sqlite

    result = load_file(session, runtime, SYSTEM, DATA / "good.csv", source="test")
    session.commit()
    table = pq.read_table(result.batch_path)
    types = {f.name: str(f.type) for f in table.schema}
    assert types == {"indicator": "string", "area_code": "string", "period": "string",
                     "freq": "string", "period_start": "date32[day]", "value": "double",
                     "unit": "string", "load_id": "string", "vintage": "timestamp[us, tz=UTC]"}
    rows = table.to_pylist()
    assert {r["load_id"] for r in rows} == {result.load_id}
    assert sorted((r["indicator"], r["area_code"], r["period"], r["freq"], r["unit"])
                  for r in rows)[:2] == [
        ("ECO_GDP", "370203001", "2024-Q1", "Q", "亿元"),
        ("ECO_GDP", "370203001", "2024-Q2", "Q", "亿元")]


def test_row_numbers_hold_deep_in_a_large_file(env_sqlite: tuple[Session, Runtime],
                                               tmp_path: Path) -> None:
    """A large upload (several DuckDB row groups, checked on every core) still names the
    rows of the file exactly."""
    from sqlalchemy import insert

    from citygrowth.areas.models import Area

    session, runtime = env_sqlite

    grids = [f"370203001001{k:03d}" for k in range(3, 1003)]  # beside the factory's cells
    session.execute(insert(Area), [dict(code=g, level="grid", parent_code=g[:12], name_zh=g,
                                        name_en=g, illustrative=True, source="test")
                                   for g in grids])
    session.commit()
    months = [f"{1995 + k // 12}-{k % 12 + 1:02d}" for k in range(300)]
    frame = pd.DataFrame({"indicator": "SOC_HELPER_HOURS",
                          "area_code": [g for _ in months for g in grids],
                          "period": [m for m in months for _ in grids], "value": 1.5})
    bad_rows = {123_457: "abc", 250_001: "x1", 299_999: ""}  # data row index → value
    frame["value"] = frame["value"].astype(object)
    for i, v in bad_rows.items():
        frame.loc[i, "value"] = v
    path = tmp_path / "large.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(LoadRejected) as err:
        load_file(session, runtime, SYSTEM, path, source="test")
    got = [(p["row"], p["field"]) for p in (q.render("en") for q in err.value.problems)]
    assert got == [(i + 2, "value") for i in sorted(bad_rows)]  # + header, 1-based
