from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from citygrowth.auth.actor import system_actor
from citygrowth.ingest.service import load_observations
from citygrowth.runtime import Runtime, build_runtime
from tests.factories import make_areas
from tests.ingest.conftest import settings_for

GRIDS = [f"370203{s:03d}{c:03d}{g:03d}" for s in (1, 2) for c in (1, 2) for g in (1, 2)]
COMMUNITIES = sorted({g[:12] for g in GRIDS})


def sample_frame() -> pd.DataFrame:
    """Grid-level case counts and satisfaction, community-level family-doctor coverage."""
    rows = []
    for k, g in enumerate(GRIDS):
        rows += [("GOV_CASES_DUE", g, "2025-03", 10 + k), ("GOV_CASES_CLOSED_ONTIME", g,
                                                            "2025-03", 8 + k // 2),
                 ("SOC_HELPER_HOURS", g, "2025-03", 1.5 * (k + 1)),
                 ("GOV_CASE_SATISFACTION", g, "2025-03", 90 + k)]
    for k, c in enumerate(COMMUNITIES):
        rows.append(("SOC_FAMILY_DOCTOR", c, "2025-Q1", 50 + 10 * k))
    return pd.DataFrame(rows, columns=["indicator", "area_code", "period", "value"])


@pytest.fixture
def loaded(sqlite_session: Session, tmp_path: Path) -> tuple[Session, Runtime]:
    make_areas(sqlite_session)
    # unequal populations make the weighted mean differ from the plain one
    from citygrowth.areas.models import Area

    for k, c in enumerate(COMMUNITIES):
        area = sqlite_session.get(Area, c)
        assert area is not None
        area.population = 1000 * (k + 1)
    sqlite_session.commit()
    runtime = build_runtime(settings_for(sqlite_session, tmp_path))
    load_observations(sqlite_session, runtime, system_actor("t"), sample_frame(), source="t")
    sqlite_session.commit()
    return sqlite_session, runtime


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One local Spark session per test worker, with a temporary warehouse."""
    import shutil

    from tests.conftest import needs

    needs("Java 17", shutil.which("java") is not None, "Spark needs a JVM")
    from pyspark.sql import SparkSession

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (SparkSession.builder.master("local[1]").appName("citygrowth-tests")
               .config("spark.sql.warehouse.dir", str(warehouse))
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .getOrCreate())
    yield session
    session.stop()
