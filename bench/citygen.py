"""A city of ten districts for the city-scale benchmark (``bench.city``): areas, users, cases
and observations, written in bulk.

Full size (the default): 10 districts × 10 streets × 10 communities × 5 grid cells (5,000
cells), 10,000,000 cases over three years and 36,000,000 stored observations (every
default indicator at every level from 2019, about 5.5 million in the current view, the rest
earlier vintages of the same cells: the departments' revisions). ``--cases`` and
``--observations`` set a smaller (or larger) city on the same 5,000 cells; ``--quick`` is a
small city (two districts) for quick runs. The index is computed once on each store.

Speed: cases are generated as numpy columns, 250,000 at a time, and written with one
``executemany`` per chunk on SQLite (a dedicated connection with ``synchronous=OFF`` and a
1 GB page cache) or ``COPY … FROM STDIN`` (CSV through pyarrow) on PostgreSQL; the secondary
indexes of ``cases`` are dropped before and rebuilt after, and its triggers (the kept case
counts) switched off, the counts then recounted once (``governance.counts.rebuild``).
Observations go through the real load path (``ingest.service.load_observations``:
validation, Parquet batch, ledger), one load per department and revision. Reference data
(areas, departments, the case taxonomy, users and API keys) are small and made through the
services.

    python -m bench.citygen DIR [--cases N] [--observations N] [--quick] [--postgres URL]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import math
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.engine import make_url

from citygrowth.areas.models import Area
from citygrowth.auth.actor import system_actor
from citygrowth.auth.identity import new_api_key
from citygrowth.auth.models import Department, RoleGrant, User
from citygrowth.db import make_engine, upgrade
from citygrowth.governance import counts
from citygrowth.governance.lifecycle import OPEN
from citygrowth.governance.models import CaseCategory
from citygrowth.governance.taxonomy import ensure_taxonomy
from citygrowth.index import jobs
from citygrowth.ingest.service import load_observations
from citygrowth.observatory.demo import LAST_DAY, generate
from citygrowth.runtime import Runtime, build_runtime
from citygrowth.settings import Settings

DISTRICTS = (("370202", "市南区", "Shinan"), ("370203", "市北区", "Shibei"),
             ("370211", "黄岛区", "Huangdao"), ("370212", "崂山区", "Laoshan"),
             ("370213", "李沧区", "Licang"), ("370214", "城阳区", "Chengyang"),
             ("370215", "即墨区", "Jimo"), ("370281", "胶州市", "Jiaozhou"),
             ("370283", "平度市", "Pingdu"), ("370285", "莱西市", "Laixi"))
HOME = "370203"  # the district the benchmark's server is configured for
SOURCES = np.array(["patrol", "resident", "hotline", "open311"])
OPEN_STATUSES = np.array(sorted(OPEN))
CHUNK = 250_000
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)  # fixed: runs are comparable
SPAN_DAYS = 3 * 365


@dataclass(frozen=True)
class Scale:
    districts: int
    streets: int
    communities: int
    grids: int
    cases: int
    observations: int

    @property
    def cells(self) -> int:
        return self.districts * self.streets * self.communities * self.grids


FULL = Scale(10, 10, 10, 5, 10_000_000, 36_000_000)
SMALL = Scale(2, 4, 5, 4, 200_000, 720_000)


@dataclass
class City:
    """What a built city hands the benchmark."""

    root: Path
    settings: Settings
    keys: dict[str, str]  # username → API key
    street: str  # a street of the home district
    timings: dict[str, float]


# --- areas ----------------------------------------------------------------------------------

def _layout(k: int) -> tuple[int, int]:
    cols = math.ceil(math.sqrt(k))
    return cols, math.ceil(k / cols)


def _square(x0: float, y0: float, w: float, h: float) -> str:
    ring = [[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h], [x0, y0]]
    return json.dumps({"type": "Polygon", "coordinates": [[[round(a, 6), round(b, 6)]
                                                             for a, b in ring]]})


def city_areas(scale: Scale, seed: int = 7) -> pd.DataFrame:
    """Districts, streets, communities and grid cells as squares tiling each parent, with
    populations on the cells summed upwards."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []

    def add(code: str, level: str, parent: str | None, zh: str, en: str, box: tuple[
            float, float, float, float], children: list[tuple[str, str, str]],
            child_level: str | None, depth: int) -> int:
        x0, y0, w, h = box
        pop = 0
        if child_level is None:
            pop = int(rng.lognormal(7.6, 0.5))
        else:
            cols, nrows = _layout(len(children))
            cw, ch = w / cols, h / nrows
            for i, (ccode, czh, cen) in enumerate(children):
                cbox = (x0 + (i % cols) * cw, y0 + (i // cols) * ch, cw, ch)
                pop += _level(ccode, child_level, code, czh, cen, cbox, depth + 1)
        rows.append({"code": code, "level": level, "parent_code": parent, "name_zh": zh,
                     "name_en": en, "geometry": _square(x0, y0, w, h), "population": pop,
                     "area_km2": round(w * h * 111 * 90, 3),
                     "centroid_lon": round(x0 + w / 2, 6), "centroid_lat": round(y0 + h / 2, 6),
                     "illustrative": True, "source": "bench: generated city"})
        return pop

    counts = {"street": scale.streets, "community": scale.communities, "grid": scale.grids}
    below = {"district": "street", "street": "community", "community": "grid", "grid": None}
    names = {"street": ("街道", "Street"), "community": ("社区", "Community"),
             "grid": ("网格", "Grid")}

    def _level(code: str, level: str, parent: str | None, zh: str, en: str,
               box: tuple[float, float, float, float], depth: int) -> int:
        nxt = below[level]
        kids: list[tuple[str, str, str]] = []
        if nxt is not None:
            zh_n, en_n = names[nxt]
            kids = [(f"{code}{i + 1:03d}", f"{zh}{i + 1}{zh_n}" if nxt == "street"
                     else f"第{i + 1}{zh_n}", f"{en_n} {i + 1}") for i in range(counts[nxt])]
        return add(code, level, parent, zh, en, box, kids, nxt, depth)

    for i, (code, zh, en) in enumerate(DISTRICTS[: scale.districts]):
        box = (120.0 + (i % 5) * 0.2, 36.0 + (i // 5) * 0.2, 0.2, 0.2)
        _level(code, "district", None, zh, en, box, 0)
    order = {"district": 0, "street": 1, "community": 2, "grid": 3}
    return pd.DataFrame(rows).sort_values(["level", "code"], key=lambda s: s.map(order)
                                          if s.name == "level" else s).reset_index(drop=True)


# --- reference data -------------------------------------------------------------------------

def reference(runtime: Runtime, areas: pd.DataFrame) -> dict[str, str]:
    """Areas, departments, the case taxonomy and the benchmark's users with API keys."""
    with runtime.session() as s:
        now = runtime.now()
        recs = areas.to_dict("records")
        for r in recs:
            r["updated_at"] = now
            r["population"] = int(r["population"])
            r["parent_code"] = r["parent_code"] if isinstance(r["parent_code"], str) else None
        s.execute(insert(Area), recs)
        for code, zh, en in (("stats", "统计局", "Statistics Bureau"),
                             ("urban", "城管局", "Urban Management Bureau"),
                             ("market", "市场监管局", "Market Regulation"),
                             ("housing", "住建局", "Housing and Construction")):
            if s.get(Department, code) is None:
                s.add(Department(code=code, name_zh=zh, name_en=en, active=True))
        s.flush()
        ensure_taxonomy(s, runtime)
        keys = {}
        districts = areas.loc[areas["level"] == "district", "code"].tolist()
        for username, role, where in (("admin", "district_admin", [HOME]),
                                      ("city", "district_admin", districts),
                                      ("street", "street_commander", [f"{HOME}001"])):
            user = User(username=username, display_name=username, active=True)
            s.add(user)
            s.flush()
            for area in where:
                s.add(RoleGrant(user_id=user.id, role=role, area_code=area))
            s.flush()
            keys[username] = new_api_key(s, user, "bench")
    return keys


# --- cases ----------------------------------------------------------------------------------

def _categories(engine: Engine) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    with engine.connect() as c:
        rows = c.execute(select(CaseCategory.code, CaseCategory.kind,
                                CaseCategory.department_code, CaseCategory.time_limit_hours)
                         .where(CaseCategory.parent_code.is_not(None),
                                CaseCategory.active.is_(True))
                         .order_by(CaseCategory.code)).all()
    codes = np.array([r[0] for r in rows])
    kinds = np.array([r[1] for r in rows])
    depts = np.array([r[2] or "urban" for r in rows])
    limits = np.array([float(r[3] or 16.0) for r in rows])
    return codes, kinds, depts, limits


CASE_COLUMNS = ("id", "token", "category_code", "kind", "area_code", "department_code",
                "status", "source", "description", "address", "lon", "lat", "photos",
                "attributes", "reporter_contact", "device_id", "account_id", "reported_at",
                "updated_at", "due_at", "warn_at", "closed_at", "limit_hours", "supervised",
                "escalation_level", "rework_count", "reopen_count", "satisfaction",
                "illustrative")


def case_chunks(n: int, cells: pd.DataFrame, cats: tuple[np.ndarray, ...], seed: int = 11
                ) -> Iterator[dict[str, np.ndarray]]:
    """Columns of ``n`` cases, ``CHUNK`` at a time, oldest first: three years up to
    ``NOW``; cases older than a month closed (4 % cancelled), recent ones open with a
    probability that falls with age; due and warning times from the category's limit."""
    codes, kinds, depts, limits = cats
    rng = np.random.default_rng(seed)
    weight = rng.lognormal(0, 0.6, len(cells))
    weight /= weight.sum()
    cell_codes = cells["code"].to_numpy()
    lon0 = cells["centroid_lon"].to_numpy()
    lat0 = cells["centroid_lat"].to_numpy()
    start = NOW - dt.timedelta(days=SPAN_DAYS)
    span_us = SPAN_DAYS * 86_400_000_000
    t0 = np.datetime64(start.replace(tzinfo=None), "us")
    now64 = np.datetime64(NOW.replace(tzinfo=None), "us")
    for a in range(0, n, CHUNK):
        b = min(n, a + CHUNK)
        k = b - a
        ids = np.arange(a + 1, b + 1)
        offs = (ids - 0.5) / n * span_us + rng.uniform(-30e6, 30e6, k)
        reported = t0 + offs.astype("int64").astype("timedelta64[us]")
        reported = np.minimum(reported, now64 - np.timedelta64(60, "s"))
        cell = rng.choice(len(cells), k, p=weight)
        cat = rng.integers(0, len(codes), k)
        age_days = (now64 - reported) / np.timedelta64(1, "D")
        is_open = rng.random(k) < np.exp(-age_days / 4.0)
        cancelled = ~is_open & (rng.random(k) < 0.04)
        status = np.where(is_open, OPEN_STATUSES[rng.integers(0, len(OPEN_STATUSES), k)],
                          np.where(cancelled, "cancelled", "closed"))
        limit_h = limits[cat]
        running = np.isin(status, ["dispatched", "handling", "handled", "verified", "closed",
                                   "postponed"])
        due = reported + (limit_h * 2.2 * 3600e6).astype("int64").astype("timedelta64[us]")
        warn = reported + (limit_h * 1.76 * 3600e6).astype("int64").astype("timedelta64[us]")
        close_h = rng.gamma(2.0, limit_h)
        closed = reported + (close_h * 3600e6).astype("int64").astype("timedelta64[us]")
        closed = np.minimum(closed, now64)
        final = (status == "closed") | (status == "cancelled")
        nat = np.datetime64("NaT", "us")
        satisfaction = np.where((status == "closed") & (rng.random(k) < 0.6),
                                rng.integers(3, 6, k), -1)
        yield {
            "id": ids,
            "token": np.array([x.hex() for x in np.frombuffer(rng.bytes(12 * k), "S12")]),
            "category_code": codes[cat], "kind": kinds[cat], "area_code": cell_codes[cell],
            "department_code": depts[cat], "status": status,
            "source": SOURCES[rng.choice(4, k, p=[0.55, 0.15, 0.15, 0.15])],
            "lon": np.round(lon0[cell] + rng.uniform(-0.0015, 0.0015, k), 6),
            "lat": np.round(lat0[cell] + rng.uniform(-0.0012, 0.0012, k), 6),
            "reported_at": reported,
            "updated_at": np.where(final, closed, reported),
            "due_at": np.where(running, due, nat), "warn_at": np.where(running, warn, nat),
            "closed_at": np.where(final, closed, nat),
            "limit_hours": np.where(running, limit_h, np.nan),
            "supervised": rng.random(k) < 0.01,
            "escalation_level": (rng.random(k) < 0.02).astype(int),
            "rework_count": (rng.random(k) < 0.03).astype(int),
            "satisfaction": satisfaction,
        }


CONSTANT = {"description": "示意案件（基准测试生成）", "address": "", "photos": "[]",
            "attributes": "{}", "reporter_contact": "", "device_id": "", "account_id": "",
            "reopen_count": 0, "illustrative": True}


def _sqlite_rows(c: dict[str, np.ndarray]) -> list[tuple[Any, ...]]:
    def times(a: np.ndarray) -> list[str | None]:
        s = np.datetime_as_string(a, unit="us")
        return [None if x == "NaT" else x.replace("T", " ") for x in s.tolist()]

    k = len(c["id"])
    cols: dict[str, list[Any]] = {name: c[name].tolist() for name in (
        "id", "token", "category_code", "kind", "area_code", "department_code", "status",
        "source", "lon", "lat", "escalation_level", "rework_count")}
    for name in ("reported_at", "updated_at", "due_at", "warn_at", "closed_at"):
        cols[name] = times(c[name])
    cols["limit_hours"] = [None if math.isnan(x) else x for x in c["limit_hours"].tolist()]
    cols["supervised"] = [int(x) for x in c["supervised"].tolist()]
    cols["satisfaction"] = [None if x < 0 else x for x in c["satisfaction"].tolist()]
    for name, value in CONSTANT.items():
        cols[name] = [int(value) if isinstance(value, bool) else value] * k
    return list(zip(*(cols[name] for name in CASE_COLUMNS), strict=True))


def _arrow(c: dict[str, np.ndarray]) -> pa.Table:
    k = len(c["id"])
    data: dict[str, pa.Array] = {}
    for name in CASE_COLUMNS:
        if name in CONSTANT:
            data[name] = pa.array([CONSTANT[name]] * k)
        elif name in ("reported_at", "updated_at", "due_at", "warn_at", "closed_at"):
            data[name] = pa.array(c[name], type=pa.timestamp("us", tz="UTC"))
        elif name == "satisfaction":
            data[name] = pa.array(np.where(c[name] < 0, 0, c[name]), mask=c[name] < 0)
        elif name == "limit_hours":
            data[name] = pa.array(c[name], mask=np.isnan(c[name]))
        else:
            data[name] = pa.array(c[name])
    return pa.table(data)


def _indexes_sqlite(con: sqlite3.Connection) -> list[str]:
    """The indexes and triggers of ``cases`` and ``case_events`` (dropped for the bulk write,
    made again after it; the case counts are then recounted once)."""
    return [r[0] for r in con.execute(
        "SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name IN "
        "('cases', 'case_events') AND sql IS NOT NULL ORDER BY type")]


def _indexes_pg(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as c:
        return [(r[0], r[1]) for r in c.execute(text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename IN "
            "('cases', 'case_events') AND NOT EXISTS (SELECT 1 FROM pg_constraint k "
            "WHERE k.conname = i.indexname)"))]


def write_cases(settings: Settings, n: int, cells: pd.DataFrame, seed: int = 11) -> int:
    """Bulk-write ``n`` cases and the first event of each open one; returns events
    written."""
    engine = make_engine(settings.resolved_database_url)
    cats = _categories(engine)
    events = 0
    if engine.dialect.name == "sqlite":
        engine.dispose()
        con = sqlite3.connect(make_url(settings.resolved_database_url).database or "")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-1000000")
        ddl = _indexes_sqlite(con)
        for stmt in ddl:
            words = stmt.split()
            if words[1].upper() == "TRIGGER":
                con.execute(f"DROP TRIGGER {words[2]}")
            else:
                con.execute("DROP INDEX " + stmt.split(" ON ")[0].split()[-1])
        sql = (f"INSERT INTO cases ({', '.join(CASE_COLUMNS)}) VALUES "
               f"({', '.join('?' * len(CASE_COLUMNS))})")
        for chunk in case_chunks(n, cells, cats, seed):
            con.executemany(sql, _sqlite_rows(chunk))
            evs = _open_events(chunk)
            con.executemany("INSERT INTO case_events (case_id, seq, at, actor, action, "
                            "from_status, to_status, note, photos, detail) VALUES "
                            "(?, 1, ?, 'bench', 'report', NULL, 'reported', '', '[]', '{}')",
                            evs)
            events += len(evs)
            con.commit()
        for stmt in ddl:
            con.execute(stmt)
        con.commit()
        con.close()
        recount(settings)
        return events
    ddl_pg = _indexes_pg(engine)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for name, _ in ddl_pg:
            cur.execute(f"DROP INDEX {name}")
        cur.execute("ALTER TABLE cases DISABLE TRIGGER USER")
        cols = ", ".join(CASE_COLUMNS)
        for chunk in case_chunks(n, cells, cats, seed):
            buf = io.BytesIO()
            pacsv.write_csv(_arrow(chunk), buf, pacsv.WriteOptions(include_header=False))
            with cur.copy(f"COPY cases ({cols}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL "
                          "(address, reporter_contact, device_id, account_id))") as cp:
                cp.write(buf.getvalue())
            evs = _open_events(chunk)
            out = io.StringIO()
            w = csv.writer(out)
            for case_id, at in evs:
                w.writerow([case_id, 1, at + "+00", "bench", "report", "reported", "", "[]",
                            "{}"])
            with cur.copy("COPY case_events (case_id, seq, at, actor, action, to_status, "
                          "note, photos, detail) FROM STDIN WITH (FORMAT csv, "
                          "FORCE_NOT_NULL (note))") as cp:
                cp.write(out.getvalue())
            events += len(evs)
            raw.commit()
        for _, ddl in ddl_pg:
            cur.execute(ddl)
        cur.execute("ALTER TABLE cases ENABLE TRIGGER USER")
        cur.execute("SELECT setval(pg_get_serial_sequence('cases', 'id'), "
                    "(SELECT max(id) FROM cases))")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    recount(settings)
    return events


def recount(settings: Settings) -> None:
    """The case counts recounted once after the bulk write (its triggers were off), then the
    planner's statistics."""
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.begin() as c:
            counts.rebuild(c)
    finally:
        engine.dispose()
    auto = make_engine(settings.resolved_database_url, isolation_level="AUTOCOMMIT")
    try:
        with auto.connect() as c:
            if auto.dialect.name == "sqlite":
                c.execute(text("ANALYZE"))
            else:
                for table in ("cases", "case_events", *counts.TABLES):
                    c.execute(text(f"VACUUM ANALYZE {table}"))
    finally:
        auto.dispose()


def _open_events(c: dict[str, np.ndarray]) -> list[tuple[int, str]]:
    keep = np.isin(c["status"], OPEN_STATUSES)
    at = np.datetime_as_string(c["reported_at"][keep], unit="us")
    return [(int(i), s.replace("T", " ")) for i, s in zip(c["id"][keep].tolist(), at.tolist(),
                                                         strict=True)]


# --- observations ---------------------------------------------------------------------------

def write_observations(runtime: Runtime, areas: pd.DataFrame, target: int,
                       seed: int = 13) -> tuple[int, int]:
    """Every default indicator at every level (one load per department), then revisions
    (values moved by up to 1 %, later vintages) until ``target`` observations are stored.
    Returns (current, stored)."""
    fw = runtime.frameworks.load()
    frame = areas[["code", "level", "population"]]
    data = generate(frame, fw, LAST_DAY)
    dept = data["indicator"].map({i.code: i.department for i in fw.indicators})
    parts = [(str(code), part.reset_index(drop=True))
             for code, part in data.groupby(dept, sort=True)]
    actor = system_actor("bench")
    stored = 0

    def load(code: str, part: pd.DataFrame, source: str) -> None:
        nonlocal stored
        with runtime.session() as s:
            load_observations(s, runtime, actor, part, dataset=code, source=source,
                              file_name=f"{code}.csv", illustrative=True)
        stored += len(part)

    for code, part in parts:
        load(code, part, "bench: generated city")
    rng = np.random.default_rng(seed)
    rnd = 0
    while stored < target:
        rnd += 1
        for code, part in parts:
            if stored >= target:
                break
            take = part if stored + len(part) <= target else part.sample(
                target - stored, random_state=rnd)
            revised = take.copy()
            move = 1 + rng.uniform(-0.01, 0.01, len(revised))
            revised["value"] = np.round(revised["value"].to_numpy(float) * move, 4)
            load(code, revised, f"bench: revision {rnd}")
    return len(data), stored


# --- the whole city -------------------------------------------------------------------------

def settings_for(root: Path, database_url: str = "") -> Settings:
    return Settings(data_dir=root / "var", database_url=database_url, env="test",
                    secret_key="bench", scheduler_enabled=False, district_code=HOME,
                    log_level="WARNING")


def build(root: Path, scale: Scale, database_url: str = "", observations: bool = True,
          say: Any = print) -> City:
    """Build the city under ``root`` (SQLite there, or ``database_url``); observations are
    written unless ``observations`` is False (a second store shares the first's)."""
    settings = settings_for(root, database_url)
    settings.ensure_dirs()
    timings: dict[str, float] = {}
    t = time.perf_counter()
    upgrade(settings.resolved_database_url)
    runtime = build_runtime(settings)
    areas = city_areas(scale)
    keys = reference(runtime, areas)
    timings["schema and reference data"] = time.perf_counter() - t
    say(f"  areas {len(areas):,} ({scale.cells:,} grid cells), users and keys: "
        f"{timings['schema and reference data']:.1f} s")
    t = time.perf_counter()
    cells = areas[areas["level"] == "grid"].reset_index(drop=True)
    events = write_cases(settings, scale.cases, cells)
    timings["cases"] = time.perf_counter() - t
    say(f"  cases {scale.cases:,} (+{events:,} events of open cases): {timings['cases']:.1f} s"
        f" ({scale.cases / timings['cases']:,.0f} cases/s)")
    if observations:
        t = time.perf_counter()
        current, stored = write_observations(runtime, areas, scale.observations)
        timings["observations"] = time.perf_counter() - t
        say(f"  observations {stored:,} stored ({current:,} in the current view): "
            f"{timings['observations']:.1f} s")
    runtime.dispose()
    street = f"{HOME}001"
    return City(root, settings, keys, street, timings)


def copy_ledger(src: Settings, dst: Settings) -> None:
    """The observation ledger of ``src``'s store into ``dst``'s (they share batches)."""
    from citygrowth.observatory.models import ObservationLoad  # lazy: a bench-only helper

    a, b = make_engine(src.resolved_database_url), make_engine(dst.resolved_database_url)
    try:
        with a.connect() as ca, b.begin() as cb:
            rows = [dict(r._mapping) for r in ca.execute(select(ObservationLoad.__table__))]
            if rows:
                cb.execute(insert(ObservationLoad.__table__), rows)
    finally:
        a.dispose()
        b.dispose()


def fresh_postgres(url: str, name: str) -> str:
    """Drop and create database ``name`` on the server of ``url``; its URL."""
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def index_once(settings: Settings, say: Any = print) -> None:
    """The index computed once on the store (what a district's server shows)."""
    runtime = build_runtime(settings)
    try:
        t = time.perf_counter()
        run = jobs.refresh(runtime)
        say(f"  index computed ({run.rows if run else 0:,} result rows): "
            f"{time.perf_counter() - t:.1f} s")
    finally:
        runtime.dispose()


def scale_of(args: argparse.Namespace) -> Scale:
    base = SMALL if args.quick else FULL
    return Scale(args.districts or base.districts, base.streets, base.communities, base.grids,
                 args.cases if args.cases is not None else base.cases,
                 args.observations if args.observations is not None else base.observations)


def size_arguments(ap: argparse.ArgumentParser) -> None:
    """The city's size, shared by this generator and ``bench.city``."""
    ap.add_argument("--quick", action="store_true",
                    help="a small city (2 districts, 160 grid cells, 200,000 cases)")
    ap.add_argument("--districts", type=int, default=None, choices=range(2, 11),
                    metavar="2-10", help=f"how many districts (default {FULL.districts}, "
                    f"{FULL.cells // FULL.districts:,} grid cells each)")
    ap.add_argument("--cases", type=int, default=None,
                    help=f"how many cases (default {FULL.cases:,}; --quick {SMALL.cases:,})")
    ap.add_argument("--observations", type=int, default=None,
                    help=f"how many stored observations (default {FULL.observations:,}; at "
                    "least the current view, every indicator at every level)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", type=Path)
    size_arguments(ap)
    ap.add_argument("--postgres", default="", help="also build the PostgreSQL store "
                    "(server URL; a database cg_city is made afresh)")
    args = ap.parse_args(argv)
    scale = scale_of(args)
    args.root.mkdir(parents=True, exist_ok=True)
    say = lambda s: print(s, flush=True)  # noqa: E731
    print(f"SQLite city under {args.root}", flush=True)
    city = build(args.root, scale, say=say)
    index_once(city.settings, say)
    keys = {"sqlite": city.keys}
    if args.postgres:
        pg = fresh_postgres(args.postgres, "cg_city")
        print("PostgreSQL city (shares the observation batches)", flush=True)
        keys["postgres"] = build(args.root, scale, pg, observations=False, say=say).keys
        copy_ledger(city.settings, settings_for(args.root, pg))
        index_once(settings_for(args.root, pg), say)
        (args.root / "postgres.url").write_text(pg, "utf-8")
    (args.root / "keys.json").write_text(json.dumps(keys), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
