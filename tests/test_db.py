"""``db.SQLiteInsert`` writes exactly what SQLAlchemy's own INSERT writes."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError

from citygrowth.db import SQLiteInsert, make_engine, upgrade
from citygrowth.governance.models import Case, CaseEvent

AT = dt.datetime(2026, 2, 17, 8, 30, 15, 123456, tzinfo=dt.UTC)


def _case(token: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "token": token, "idempotency_key": f"k:{token}", "fingerprint": None,
        "category_code": "E0101", "kind": "event", "component_id": None,
        "area_code": "370203", "status": "reported", "source": "api",
        "description": "井盖缺失 — 'quoted' \"twice\"", "address": "", "lon": 120.305,
        "lat": 36.055, "photos": ["/media/cases/a.jpg"], "attributes": {"尺寸": 3, "x": None},
        "reporter_user_id": 7, "reporter_contact": "", "device_id": "d1", "account_id": "",
        "reported_at": AT, "updated_at": AT.astimezone(dt.timezone(dt.timedelta(hours=8))),
        "supervised": False, "escalation_level": 0, "rework_count": 0, "reopen_count": 0,
        "illustrative": True}
    row.update(extra)
    return row


def _event(case_id: int) -> dict[str, Any]:
    return {"case_id": case_id, "seq": 1, "at": AT, "actor": "bench", "actor_user_id": None,
            "action": "report", "from_status": None, "to_status": "reported", "note": "",
            "photos": [], "detail": {"source": "api"}}


CASE_COLUMNS = tuple(_case("columns"))
EVENT_COLUMNS = tuple(_event(0))


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "raw.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=OFF")
    con.close()
    return url


def _rows(path: str, table: str, ids: list[int]) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(path.removeprefix("sqlite:///"))
    cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})") if r[1] != "id"]
    out = [con.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE id = ?", (i,)).fetchone()
           for i in ids]
    con.close()
    return out


def test_rows_are_stored_as_sqlalchemy_stores_them(db: str) -> None:
    engine = make_engine(db)
    cases, events = cast(Table, Case.__table__), cast(Table, CaseEvent.__table__)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        a = [_case("sa-1"), _case("sa-2", photos=[], attributes={}, lon=None, lat=None)]
        ids_sa = [conn.execute(insert(cases).values(**r)).inserted_primary_key[0] for r in a]
        conn.execute(insert(events), [_event(i) for i in ids_sa])
        raw_cases = SQLiteInsert(cases, CASE_COLUMNS, conn.dialect)
        raw_events = SQLiteInsert(events, EVENT_COLUMNS, conn.dialect)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        b = [_case("raw-1"), _case("raw-2", photos=[], attributes={}, lon=None, lat=None)]
        ids_raw = raw_cases.insert(cursor, b)
        raw_events.insert_many(cursor, [_event(i) for i in ids_raw])
        assert ids_raw == [ids_sa[-1] + 1, ids_sa[-1] + 2]
        with pytest.raises(IntegrityError):  # the same token again: SQLAlchemy's error
            raw_cases.insert(cursor, [_case("raw-1", idempotency_key="other")])
        cursor.close()
        conn.commit()

    def strip(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [tuple(v for v in r if not (isinstance(v, str) and v.startswith(("sa-", "k:sa-",
                                                                              "raw-", "k:raw-"))))
                for r in rows]

    assert strip(_rows(db, "cases", ids_raw)) == strip(_rows(db, "cases", ids_sa))
    assert _rows(db, "case_events", ids_raw) != []
    con = sqlite3.connect(db.removeprefix("sqlite:///"))
    ev = con.execute("SELECT case_id, at, photos, detail FROM case_events ORDER BY id").fetchall()
    con.close()
    assert [e[1:] for e in ev[:2]] == [e[1:] for e in ev[2:]]
    # and the ORM reads them back alike
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        got = [s.get(Case, i) for i in (*ids_sa, *ids_raw)]
        assert all(c is not None for c in got)
        assert [(c.photos, c.attributes, c.reported_at, c.updated_at, c.illustrative, c.lon)
                for c in got[:2] if c] == \
            [(c.photos, c.attributes, c.reported_at, c.updated_at, c.illustrative, c.lon)
             for c in got[2:] if c]
    engine.dispose()


def test_only_for_sqlite() -> None:
    from sqlalchemy.dialects import postgresql

    with pytest.raises(ValueError, match="SQLite"):
        SQLiteInsert(cast(Table, Case.__table__), CASE_COLUMNS, postgresql.dialect())
