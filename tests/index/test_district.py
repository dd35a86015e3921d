"""The district's scores are the population-weighted mean of its streets' scores."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.index.service import derive_district
from tests.factories import DISTRICT, STREET_A, STREET_B, make_areas


def test_district_is_population_weighted(session: Session) -> None:
    make_areas(session)
    session.get(Area, STREET_A).population = 3000  # type: ignore[union-attr]
    session.get(Area, STREET_B).population = 1000  # type: ignore[union-attr]
    session.flush()
    streets = pd.DataFrame({
        "unit": [STREET_A, STREET_B, STREET_A, STREET_B, STREET_A],
        "period": ["2025", "2025", "2025", "2025", "2024"],
        "code": ["CGI", "CGI", "ECO", "ECO", "CGI"],
        "value": [60.0, 20.0, 10.0, 50.0, 40.0],
        "rank": [1, 2, 2, 1, 1],
    })
    d = derive_district(session, streets).set_index(["period", "code"])
    assert d.loc[("2025", "CGI"), "value"] == pytest.approx(50.0)   # (3·60 + 1·20) / 4
    assert d.loc[("2025", "ECO"), "value"] == pytest.approx(20.0)   # (3·10 + 1·50) / 4
    assert d.loc[("2024", "CGI"), "value"] == pytest.approx(40.0)   # only one street reported
    assert set(d["unit"]) == {DISTRICT} and set(d["rank"]) == {1}
