"""The city benchmark's generator (``bench.citygen``) builds a city the server reads: areas,
cases written in bulk (with the first event of each open case), observations through the load
path up to the asked number, keys scoped as stated, and the index computed — on SQLite and
PostgreSQL, at a tiny size."""

from __future__ import annotations

from pathlib import Path

import duckdb
from bench import citygen
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from citygrowth.app import create_app
from citygrowth.areas.models import Area
from citygrowth.db import make_engine
from citygrowth.governance import counts
from citygrowth.governance.lifecycle import OPEN, STATUSES
from citygrowth.governance.models import Case, CaseEvent
from citygrowth.observatory import batches


def test_the_generated_city_is_what_the_server_reads(tmp_path: Path, db_url: str) -> None:
    scale = citygen.Scale(2, 2, 2, 2, cases=3_000, observations=40_000)
    city = citygen.build(tmp_path, scale, db_url, say=lambda _: None)
    citygen.index_once(city.settings, say=lambda _: None)
    engine = make_engine(city.settings.resolved_database_url)
    with engine.connect() as c:
        assert c.scalar(select(func.count()).where(Area.level == "grid")) == scale.cells == 16
        assert c.scalar(select(func.count()).select_from(Case)) == 3_000
        open_cases = c.scalar(select(func.count()).where(Case.status.in_(OPEN)))
        assert c.scalar(select(func.count()).select_from(CaseEvent)) == open_cases
        assert c.scalar(select(func.max(Case.id))) == 3_000
        assert counts.drift(c) == []  # recounted once after the bulk write
    with engine.begin() as c:  # and the triggers are back: a deletion is counted
        c.execute(text("DELETE FROM case_events WHERE case_id = 1"))
        c.execute(text("DELETE FROM cases WHERE id = 1"))
        assert counts.drift(c) == []
    engine.dispose()
    files = f"{batches.batches_dir(city.settings)}/*.parquet"
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{files}')").fetchall() == [(40_000,)]
    with TestClient(create_app(city.settings)) as client:
        def get(user: str, path: str) -> dict:  # type: ignore[type-arg]
            r = client.get(path, headers={"X-API-Key": city.keys[user]})
            assert r.status_code == 200, r.text
            return r.json()  # type: ignore[no-any-return]

        everywhere = get("city", "/api/cases/queues")["counts"]
        home = get("admin", "/api/cases/queues")["counts"]
        assert sum(everywhere[s] for s in STATUSES) == 2_999  # one deleted above
        assert 0 < sum(home[s] for s in STATUSES) < 2_999  # the district's share only
        assert get("admin", "/api/workbench")["ok"]  # the index was computed
        assert get("admin", f"/api/profile/{city.street}")
