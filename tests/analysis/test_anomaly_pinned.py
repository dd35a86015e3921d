"""The anomaly checks' exact output on a realistic load with every kind of anomaly planted,
pinned from the per-row implementation before it was vectorised (``anomaly_reference``), and
the fast checks compared with that implementation on more loads and through the store."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session

from citygrowth.analysis.anomaly import AnomalyWarning, check_batch
from citygrowth.runtime import Runtime
from tests.analysis import anomaly_reference as reference
from tests.analysis.load_synth import CATALOG, COMMUNITIES, GRIDS, STREETS, areas, planted_load

# (kind, indicator, area, period, value, severity, expected, params without indicator/area)
EXPECTED = [
    ('spatial', 'CASES', '370203001002004', '2025-01', 543.0, 'warning',
     None, {
         'period': '2025-01', 'value': '543', 'change': '-15.0%', 'peer_change': '+2.6%',
         'peers': 5}),
    ('spatial', 'CASES', '370203002003001', '2025-03', 636.0, 'warning',
     None, {
         'period': '2025-03', 'value': '636', 'change': '+14.8%', 'peer_change': '-5.8%',
         'peers': 5}),
    ('jump', 'CASES', '370203003001003', '2025-02', 6000.0, 'warning',
     620.0, {
         'period': '2025-02', 'value': '6,000', 'change': '+867.7%', 'previous': '2024-02',
         'z': '39.2'}),
    ('unit_slip', 'COVER', '370203001002002', '2025-04', 0.6086, 'high',
     60.305499999999995, {
         'period': '2025-04', 'value': '0.6086', 'factor': '1/100', 'reference': '60.31',
         'hint': 'a percentage and a fraction differ by 100'}),
    ('impossible', 'COVER', '370203001002006', '2025-05', 130.0, 'high',
     None, {
         'period': '2025-05', 'value': '130', 'upper': '100'}),
    ('seasonality', 'GDP', '370203001001004', '2025-06', 43.4267, 'warning',
     None, {
         'start': '2025-01', 'end': '2025-06', 'ratio': '4.8'}),
    ('unit_slip', 'GDP', '370203001001006', '2025-03', 422365.0, 'high',
     41.37065, {
         'period': '2025-03', 'value': '422,365', 'factor': '10,000', 'reference': '41.37',
         'hint': 'yuan and 10,000 yuan differ by 10,000'}),
    ('jump', 'GDP', '370203001004', '2025-06', 313.73625, 'warning',
     614.6397, {
         'period': '2025-06', 'value': '313.7', 'change': '-49.0%', 'previous': '2024-06',
         'z': '-58.8'}),
    ('jump', 'GDP', '370203001004003', '2025-04', 68.14603, 'warning',
     39.2858, {
         'period': '2025-04', 'value': '68.15', 'change': '+73.5%', 'previous': '2024-04',
         'z': '23.3'}),
    ('unit_slip', 'GDP', '370203002', '2025-02', 0.057231910000000004, 'high',
     560.59635, {
         'period': '2025-02', 'value': '0.05723', 'factor': '1/10,000', 'reference': '560.6',
         'hint': 'yuan and 10,000 yuan differ by 10,000'}),
    ('spatial', 'GDP', '370203002002', '2025-01', 846.7963, 'warning',
     None, {
         'period': '2025-01', 'value': '846.8', 'change': '+40.5%', 'peer_change': '+0.3%',
         'peers': 4}),
    ('spatial', 'GDP', '370203002002', '2025-02', 615.7279, 'warning',
     None, {
         'period': '2025-02', 'value': '615.7', 'change': '-27.3%', 'peer_change': '-0.8%',
         'peers': 4}),
    ('impossible', 'RESIDENTS', '370203001002004', '2025-02', -5.0, 'high',
     None, {
         'period': '2025-02', 'value': '-5', 'lower': '0'}),
    ('spatial', 'RESIDENTS', '370203002003005', '2025-03', 166.0, 'warning',
     None, {
         'period': '2025-03', 'value': '166', 'change': '-39.4%', 'peer_change': '+0.0%',
         'peers': 5}),
    ('spatial', 'RESIDENTS', '370203002003005', '2025-04', 278.0, 'warning',
     None, {
         'period': '2025-04', 'value': '278', 'change': '+67.5%', 'peer_change': '+0.5%',
         'peers': 5}),
    ('seasonality', 'RETAIL', '370203002003', '2025-06', 104.95060000000001, 'warning',
     None, {
         'start': '2025-01', 'end': '2025-06', 'ratio': '44222871.1'}),
    ('impossible', 'SCORE', '370203001003002', '2025-01', 11.5, 'high',
     None, {
         'period': '2025-01', 'value': '11.5', 'upper': '10'}),
]


def _as_tuple(w: AnomalyWarning) -> tuple[Any, ...]:
    params = dict(w.params)
    assert params.pop("indicator") == w.indicator
    assert params.pop("area") == w.area_code
    return (w.kind, w.indicator, w.area_code, w.period, w.value, w.severity, w.expected, params)


def _full(w: AnomalyWarning) -> tuple[Any, ...]:
    return (w.kind, w.indicator, w.area_code, w.period, w.value, w.severity, w.expected,
            w.message, w.params)


def test_every_planted_anomaly_gives_exactly_the_pinned_warnings() -> None:
    new, hist = planted_load()
    got = check_batch(new, hist, CATALOG, areas())
    assert [_as_tuple(w) for w in got] == EXPECTED
    kinds = {w.kind for w in got}
    assert kinds == {"impossible", "unit_slip", "jump", "seasonality", "spatial"}
    slip = next(w for w in got if w.kind == "unit_slip" and w.indicator == "GDP")
    assert "10,000" in slip.render("en") and "单位" in slip.render("zh_CN")
    for w in got:  # every message renders in both languages
        assert w.render("en") and w.render("zh_CN")


def _variant(seed: int, streets: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A planted load on fewer streets, with random extra slips, spikes, gaps, duplicates and
    non-positive values, so the comparison covers the corners."""
    new, hist = planted_load(seed)
    keep = tuple(STREETS[:streets])
    new = new[new.area_code.str.startswith(keep)].reset_index(drop=True)
    hist = hist[hist.area_code.str.startswith(keep)].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(new), size=40, replace=False)
    factors = rng.choice([10000.0, 1e-4, 100.0, 0.01, 1.8, 0.4, 0.0, -1.0], size=40)
    new.loc[idx, "value"] = new.loc[idx, "value"].to_numpy() * factors
    gaps = rng.choice(len(hist), size=200, replace=False)
    hist = hist.drop(index=gaps).reset_index(drop=True)
    dup = new.sample(5, random_state=seed).assign(value=lambda f: f["value"] * 1.01)
    new = pd.concat([new, dup], ignore_index=True)
    hdup = hist.sample(5, random_state=seed).assign(value=lambda f: f["value"] * 0.99)
    hist = pd.concat([hist, hdup], ignore_index=True)
    return new, hist


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_fast_checks_equal_the_reference_on_varied_loads(seed: int) -> None:
    new, hist = _variant(seed, 2)
    expected = reference.check_batch(new, hist, CATALOG, areas())
    got = check_batch(new, hist, CATALOG, areas())
    assert [_full(w) for w in got] == [_full(w) for w in expected]
    assert len(expected) > 10


def test_fast_checks_equal_the_reference_without_history_or_areas() -> None:
    new, _hist = _variant(31, 2)
    for hist, area_rows in ((None, None), (pd.DataFrame(), areas()), (_hist, None)):
        expected = reference.check_batch(new, hist, CATALOG, area_rows)
        got = check_batch(new, hist, CATALOG, area_rows)
        assert [_full(w) for w in got] == [_full(w) for w in expected]
    one = new.iloc[:1]
    assert [_full(w) for w in check_batch(one, _hist, None, None)] == \
        [_full(w) for w in reference.check_batch(one, _hist, None, None)]
    assert check_batch(new.iloc[:0], _hist, CATALOG, None) == []


def test_load_time_check_through_the_store_equals_the_reference(
        sqlite_session: Session, runtime: Runtime) -> None:
    """Real loads into a temporary store; ``check_load_frame`` (history, siblings, catalog and
    areas read from the system) gives what the reference gives on the same history."""
    settings = runtime.settings
    from sqlalchemy import insert

    from citygrowth.analysis.service import check_load_frame
    from citygrowth.areas.models import Area
    from citygrowth.auth.actor import system_actor
    from citygrowth.catalog.framework import builtin_framework
    from citygrowth.ingest.service import load_observations

    rows = [{**a, "name_zh": a["code"], "name_en": a["code"], "source": "test"}
            for a in areas()]
    sqlite_session.execute(insert(Area), rows)
    rng = np.random.default_rng(5)
    frames = []
    for ind, base in (("SOC_HELPER_HOURS", 600.0), ("GOV_CASE_SATISFACTION", 85.0)):
        for area in STREETS + COMMUNITIES + GRIDS[:24]:
            level = base * rng.uniform(0.8, 1.2)
            for i in range(30):
                frames.append((ind, area, f"{2023 + (i // 12)}-{i % 12 + 1:02d}",
                               round(level * (1 + 0.002 * i) * np.exp(rng.normal(0, .01)), 3)))
    df = pd.DataFrame(frames, columns=["indicator", "area_code", "period", "value"])
    hist, new = df[df.period < "2025-05"], df[df.period >= "2025-05"].copy()
    load_observations(sqlite_session, runtime, system_actor("t"), hist, source="test")
    sqlite_session.commit()
    new.loc[new.index[3], "value"] *= 10000
    new.loc[new.index[40], "value"] *= 1.5
    new.loc[new.index[10], "value"] = -5.0
    got = check_load_frame(sqlite_session, runtime, new)
    history = reference.history_for(settings, new, None)
    expected = reference.check_batch(new, history, builtin_framework(),
                                     sqlite_session.query(Area).all())
    assert [_full(w) for w in got] == [_full(w) for w in expected]
    assert {w.kind for w in got} >= {"unit_slip", "impossible"}
