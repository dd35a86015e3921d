"""An accepted load is checked for anomalies against its history, and the warnings are kept."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.analysis.models import AnomalyRecord
from citygrowth.auth.actor import system_actor
from citygrowth.ingest.service import load_observations
from citygrowth.runtime import Runtime
from tests.factories import STREET_A, STREET_B, make_areas

YEARS = [str(y) for y in range(2016, 2025)]


def _frame(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame([("ECO_FIN_INSTITUTIONS", a, p, v) for a, p, v in rows],
                        columns=["indicator", "area_code", "period", "value"])


def test_a_unit_slip_is_flagged_and_kept_with_the_load(sqlite_session: Session,
                                                       runtime: Runtime) -> None:
    make_areas(sqlite_session)
    history = [(a, y, base + i) for a, base in ((STREET_A, 40.0), (STREET_B, 50.0))
               for i, y in enumerate(YEARS)]
    first = load_observations(sqlite_session, runtime, system_actor("t"), _frame(history),
                              source="test")
    sqlite_session.commit()
    assert first.extra["warnings"] == []  # clean history raises nothing
    slip = load_observations(sqlite_session, runtime, system_actor("t"),
                             _frame([(STREET_A, "2025", 490_000.0), (STREET_B, "2025", 59.0)]),
                             source="test")
    sqlite_session.commit()
    flagged = {(w["area_code"], w["kind"]) for w in slip.extra["warnings"]}
    assert any(area == STREET_A for area, _ in flagged)
    assert all(area != STREET_B for area, _ in flagged)
    kept = sqlite_session.scalars(select(AnomalyRecord).where(
        AnomalyRecord.load_id == slip.load_id)).all()
    assert kept and all(r.decision == "pending" for r in kept)
