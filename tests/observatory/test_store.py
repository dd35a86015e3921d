from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from citygrowth.catalog.framework import builtin_framework
from citygrowth.errors import ValidationFailed
from citygrowth.observatory.freshness import freshness
from citygrowth.observatory.store import ObservationStore, parse_as_of
from citygrowth.runtime import Runtime
from tests.observatory.conftest import COMMUNITIES, GRIDS

FW = builtin_framework()
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _by_area(df) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return dict(zip(df["area_code"], df["value"], strict=True))


def test_sum_rollup_to_street_and_district(loaded: tuple[Session, Runtime]) -> None:
    _s, runtime = loaded
    settings = runtime.settings
    store = ObservationStore(settings)
    streets = store.rollup("SOC_HELPER_HOURS", "street", framework=FW)
    assert _by_area(streets) == {"370203001": 1.5 * 10, "370203002": 1.5 * 26}
    district = store.rollup("SOC_HELPER_HOURS", "district", framework=FW)
    assert _by_area(district) == {"370203": 1.5 * 36}
    assert district["children"].tolist() == [8]


def test_mean_rollup(loaded: tuple[Session, Runtime]) -> None:
    store = ObservationStore(loaded[1].settings)
    assert _by_area(store.rollup("GOV_CASE_SATISFACTION", "street", framework=FW)) == {
        "370203001": 91.5, "370203002": 95.5}


def test_population_weighted_mean_rollup(loaded: tuple[Session, Runtime]) -> None:
    store = ObservationStore(loaded[1].settings)
    got = _by_area(store.rollup("SOC_FAMILY_DOCTOR", "district", framework=FW))
    values = [50, 60, 70, 80]
    weights = [1000, 2000, 3000, 4000]
    expected = sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)
    assert got == {"370203": pytest.approx(expected)}
    assert expected != sum(values) / 4


def test_ratio_of_sums_rollup(loaded: tuple[Session, Runtime]) -> None:
    store = ObservationStore(loaded[1].settings)
    due = [10 + k for k in range(8)]
    ontime = [8 + k // 2 for k in range(8)]
    got = _by_area(store.rollup("GOV_CASE_ONTIME_RATE", "street", framework=FW))
    assert got == {
        "370203001": pytest.approx(sum(ontime[:4]) / sum(due[:4]) * 100),
        "370203002": pytest.approx(sum(ontime[4:]) / sum(due[4:]) * 100),
    }


def test_rollup_cannot_go_down(loaded: tuple[Session, Runtime]) -> None:
    with pytest.raises(ValidationFailed):
        ObservationStore(loaded[1].settings).rollup("SOC_FAMILY_DOCTOR", "grid", framework=FW)


def test_query_filters(loaded: tuple[Session, Runtime]) -> None:
    store = ObservationStore(loaded[1].settings)
    df = store.query(indicators=["GOV_CASES_DUE"], level="grid", start="2025-01", end="2025-03")
    assert df["area_code"].tolist() == GRIDS
    assert list(df.columns) == ["indicator", "area_code", "period", "freq", "value", "unit",
                                "load_id", "vintage"]
    assert store.query(indicators=["GOV_CASES_DUE"], start="2025-04").empty
    assert store.query(area_codes=[COMMUNITIES[0]])["indicator"].tolist() == [
        "SOC_FAMILY_DOCTOR"]


def test_freshness_flags_missing_and_overdue(loaded: tuple[Session, Runtime]) -> None:
    session, runtime = loaded
    settings = runtime.settings
    rows = {r["indicator"]: r for r in freshness(session, ObservationStore(settings),
                                                 fw=FW, today=dt.date(2025, 4, 10))}
    due = rows["GOV_CASES_DUE"]
    assert due["last_period"] == "2025-03" and due["expected_next"] == "2025-05-20"
    assert due["stale"] is False and due["last_load_at"]
    assert rows["ECO_GDP"]["stale"] is True and rows["ECO_GDP"]["last_period"] is None
    late = {r["indicator"]: r for r in freshness(session, ObservationStore(settings),
                                                 fw=FW, today=dt.date(2025, 6, 1))}
    assert late["GOV_CASES_DUE"]["stale"] is True


def test_as_of_parsing() -> None:
    assert parse_as_of("2025-06-30", SHANGHAI) == dt.datetime(2025, 6, 30, 15, 59, 59, 999999,
                                                    tzinfo=dt.UTC)
    with pytest.raises(ValidationFailed):
        parse_as_of("30/06/2025", SHANGHAI)


def test_bulk_frame_holds_the_rows_of_query_as_categories(
        loaded: tuple[Session, Runtime]) -> None:
    store = ObservationStore(loaded[1].settings)
    inds = sorted(set(store.query()["indicator"]))
    for kwargs in ({"level": "grid"}, {"area_codes": COMMUNITIES[:1]}, {}):
        got = store.frame(inds, **kwargs)  # type: ignore[arg-type]
        exp = store.query(indicators=inds, **kwargs)  # type: ignore[arg-type]
        assert list(got.columns) == ["indicator", "area_code", "period", "value", "load_id"]
        assert all(str(got[c].dtype) == "category" for c in ("indicator", "area_code", "period"))
        key = ["indicator", "area_code", "period"]
        a = got.astype({c: str for c in key}).sort_values(key).reset_index(drop=True)
        b = exp[[*key, "value"]].astype({c: str for c in key}).sort_values(key)
        assert len(a) == len(b) > 0
        assert a[[*key, "value"]].equals(b.reset_index(drop=True).astype(a[[*key, "value"]]
                                                                        .dtypes.to_dict()))
    past = store.frame(inds, as_of=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert past.empty
    with pytest.raises(ValidationFailed):
        store.frame(inds, columns=("indicator", "nope"))
    with pytest.raises(ValidationFailed):
        store.frame(inds, level="planet")
