"""Loading observations: validate everything, then store one immutable batch — or nothing.

``load_observations`` (a DataFrame, for other domains' code) and ``load_file`` (CSV, XLSX,
JSON or any plugin reader) share one path: the data goes into DuckDB, is checked against the
framework, the area list and the period rules (``ingest/validate.py``), and — only when there
is no problem at all — is written as a Parquet batch and recorded as an
:class:`ObservationLoad`. The batch becomes visible, and ``observations.loaded`` is published,
when the caller's transaction commits (``observatory/batches.py``).

A rejected upload raises :class:`LoadRejected`; callers that keep a history call
:func:`record_rejection` after rolling back (the web and CLI layers do).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor, system_actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import can, require
from citygrowth.catalog.datasets import Dataset, get_dataset
from citygrowth.catalog.framework import Framework, load_framework
from citygrowth.db import utcnow
from citygrowth.errors import Forbidden
from citygrowth.events import EventBus
from citygrowth.ingest.models import ObservationLoad
from citygrowth.ingest.readers import reader_for
from citygrowth.ingest.validate import LoadRejected, check
from citygrowth.observatory import batches
from citygrowth.settings import Settings

Progress = Callable[[str, float], None]
_vintage_lock = threading.Lock()
_last_vintage: list[dt.datetime] = [dt.datetime.min.replace(tzinfo=dt.UTC)]


@dataclass
class LoadResult:
    load_id: str
    dataset: str | None
    department: str | None
    rows: int
    indicators: list[str]
    period_min: str | None
    period_max: str | None
    vintage: dt.datetime
    sha256: str
    batch_path: str
    seconds: float
    illustrative: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "load_id": self.load_id, "dataset": self.dataset, "department": self.department,
            "rows": self.rows, "indicators": self.indicators, "period_min": self.period_min,
            "period_max": self.period_max, "vintage": self.vintage.isoformat(),
            "sha256": self.sha256, "seconds": round(self.seconds, 3),
            "illustrative": self.illustrative,
            "warnings": self.extra.get("warnings", []),
        }


ANOMALY_ROW_LIMIT = 200_000


def next_vintage() -> dt.datetime:
    """Now, strictly later than any vintage handed out before in this process."""
    with _vintage_lock:
        now = utcnow()
        if now <= _last_vintage[0]:
            now = _last_vintage[0] + dt.timedelta(microseconds=1)
        _last_vintage[0] = now
        return now


def new_load_id(vintage: dt.datetime) -> str:
    return f"L{vintage:%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"


def load_observations(
    session: Session, settings: Settings, actor: Actor, frame: pd.DataFrame, *,
    dataset: str | None = None, source: str, file_name: str | None = None,
    bus: EventBus | None = None, vintage: dt.datetime | None = None,
    illustrative: bool = False,
) -> LoadResult:
    """Load a long DataFrame (``indicator, area_code, period, value`` [+ ``unit``])."""
    ds = get_dataset(dataset) if dataset else None
    require(actor, "data.load", ds)
    started = time.perf_counter()
    con = _connect()
    try:
        frame = frame.reset_index(drop=True)
        if len(frame.columns) == 0:
            frame = pd.DataFrame({"indicator": pd.Series([], dtype="string")})
        con.register("src", frame)
        digest = frame_sha256(frame)
        return _load(Job(session, settings, actor, con, file_name or "(data)", 1, digest, ds,
                         source, bus, vintage, illustrative, started, None))
    finally:
        con.close()


def load_file(
    session: Session, settings: Settings, actor: Actor, path: Path | str, *,
    dataset: str | None = None, source: str = "file", file_name: str | None = None,
    bus: EventBus | None = None, progress: Progress | None = None,
    illustrative: bool = False,
) -> LoadResult:
    """Load a file read by the reader registered for its extension (CSV, XLSX, JSON …)."""
    ds = get_dataset(dataset) if dataset else None
    require(actor, "data.load", ds)
    started = time.perf_counter()
    path = Path(path)
    tell = progress or (lambda stage, fraction: None)
    tell("read", 0.0)
    reader = reader_for(path)
    con = _connect()
    with ThreadPoolExecutor(1) as pool:  # hash the file while DuckDB reads and checks it
        digest = pool.submit(file_sha256, path, True)
        try:
            read = reader(con, path)
            read.relation.create_view("src")
            tell("read", 1.0)
            return _load(Job(session, settings, actor, con, file_name or path.name,
                             read.first_row, digest, ds, source, bus, None, illustrative,
                             started, tell))
        finally:
            con.close()


def frame_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 over the frame's column names and per-row hashes (vectorised)."""
    h = hashlib.sha256("\x1f".join(map(str, frame.columns)).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar=false")
    # Every join here is the upload (millions of rows) against a small dimension, written in
    # that order. DuckDB's estimate of a CSV scan's size can be so low that it builds its hash
    # table on the upload instead (4× slower at 2M rows): keep the order as written.
    con.execute("SET disabled_optimizers='join_order,build_side_probe_side'")
    # rows are checked and written in any order (the precise pass, which numbers rows by
    # their place in the file, turns the order back on)
    con.execute("SET preserve_insertion_order=false")
    return con


def file_sha256(path: Path, background: bool = False) -> str:
    """SHA-256 of a file. ``background``: called on a thread of its own while DuckDB checks the
    same file; that thread then runs at a lower priority (Linux), so that it takes the cores
    DuckDB leaves idle rather than slowing the checks down (the digest is needed only at the
    end)."""
    if background and hasattr(os, "setpriority"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        except OSError:  # not allowed here: hash at normal priority
            pass
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Job:
    session: Session
    settings: Settings
    actor: Actor
    con: duckdb.DuckDBPyConnection
    file: str
    first_row: int
    digest: str | Future[str]
    dataset: Dataset | None
    source: str
    bus: EventBus | None
    vintage: dt.datetime | None
    illustrative: bool
    started: float
    progress: Progress | None

    @property
    def sha256(self) -> str:
        return self.digest if isinstance(self.digest, str) else self.digest.result()


def _load(job: Job) -> LoadResult:
    fw = load_framework()
    tell = job.progress or (lambda stage, fraction: None)
    tell("validate", 0.0)
    rows = job.session.execute(select(Area.code, Area.level)).all()
    areas = pd.DataFrame({"code": [r[0] for r in rows], "level": [r[1] for r in rows]})
    today = dt.datetime.now(ZoneInfo(job.settings.timezone)).date()
    checked = check(job.con, fw, areas, job.file, job.first_row, job.dataset, today)
    if checked.total:
        raise LoadRejected(
            checked.problems, checked.total, job.file, dataset=job.dataset.code
            if job.dataset else None, sha256=job.sha256, source=job.source, rows=checked.rows,
        )
    depts = _check_scope(job, fw)
    tell("validate", 1.0)
    tell("store", 0.0)
    vintage = job.vintage or next_vintage()
    load_id = new_load_id(vintage)
    pending = batches.pending_path(job.settings, load_id)
    _write_batch(job.con, pending, load_id, vintage, fw)
    stats = _stats(job.con)
    department = depts[0] if len(depts) == 1 else None
    dataset = job.dataset.code if job.dataset else department
    load = ObservationLoad(
        load_id=load_id, dataset=dataset, department_code=department, source=job.source,
        file_name=job.file, actor=job.actor.username, user_id=job.actor.user_id,
        created_at=utcnow(), vintage=vintage, sha256=job.sha256, row_count=checked.rows,
        status="accepted", problem_count=0, problems=[], indicators=stats["indicators"],
        period_min=stats["period_min"], period_max=stats["period_max"],
        batch_path=str(batches.batch_path(job.settings, load_id)),
        illustrative=job.illustrative,
    )
    job.session.add(load)
    job.session.flush()
    result = LoadResult(
        load_id=load_id, dataset=dataset, department=department, rows=checked.rows,
        indicators=stats["indicators"], period_min=stats["period_min"],
        period_max=stats["period_max"], vintage=vintage, sha256=job.sha256,
        batch_path=load.batch_path or "", seconds=time.perf_counter() - job.started,
        illustrative=job.illustrative,
    )
    result.extra["warnings"] = _anomaly_warnings(job, pending, load_id, checked.rows)
    payload = {**result.as_dict(), "source": job.source, "file_name": job.file}
    batches.add_pending(job.session, batches.PendingBatch(job.settings, load_id, job.bus,
                                                          payload))
    record(job.session, job.actor, "data.load", load_id,
           {"dataset": dataset, "rows": checked.rows, "sha256": job.sha256,
            "source": job.source})
    tell("store", 1.0)
    return result


def _anomaly_warnings(job: Job, batch: Path, load_id: str, rows: int) -> list[dict[str, Any]]:
    """Plausibility checks of the accepted rows against their history (unit slips, jumps,
    impossible values, broken seasonality, an area out of line with its neighbours), kept
    with the load so the loader can accept or send back each warning
    (``citygrowth.analysis``). Loads over ``ANOMALY_ROW_LIMIT`` rows and illustrative demo
    loads are checked on demand instead (``citygrowth analysis anomalies --load ID``)."""
    from citygrowth.analysis.service import check_load_frame, record_warnings

    if job.illustrative or rows > ANOMALY_ROW_LIMIT:
        return []
    frame = pd.read_parquet(batch, columns=["indicator", "area_code", "period", "value",
                                            "load_id"])
    warnings = check_load_frame(job.session, job.settings, frame)
    record_warnings(job.session, system_actor("ingest"), load_id, warnings)
    return [w.to_dict() for w in warnings]


def _check_scope(job: Job, fw: Framework) -> list[str]:
    """The departments of the upload's indicators; each must be the actor's to load, in each
    area it names."""
    codes = [r[0] for r in job.con.execute(
        "SELECT DISTINCT i.code FROM j JOIN dim_ind i USING (ik)").fetchall()]
    imap = fw.indicator_map()
    by_dept: dict[str, list[str]] = {}
    for c in codes:
        by_dept.setdefault(imap[c].department, []).append(c)
    if job.actor.is_system:
        return sorted(by_dept)
    for dept, inds in sorted(by_dept.items()):
        if not can(job.actor, "data.load", {"department_code": dept}):
            raise Forbidden(
                "Indicator {indicator} belongs to department {department}; you may load only "
                "your own department's data.", code="wrong_department",
                indicator=sorted(inds)[0], department=dept,
            )
    pairs = job.con.execute(
        "SELECT DISTINCT i.code, a.code FROM j JOIN dim_ind i USING (ik) "
        "JOIN dim_area a USING (ak)").fetchall()
    for ind, area in pairs:
        if not can(job.actor, "data.load", {"department_code": imap[ind].department,
                                            "area_code": area}):
            raise Forbidden("You may not load data for area {area}.", code="area_out_of_scope",
                            area=area)
    return sorted(by_dept)


def _write_batch(con: duckdb.DuckDBPyConnection, path: Path, load_id: str,
                 vintage: dt.datetime, fw: Framework) -> None:
    """Write the checked rows as the load's Parquet batch (``batches.BATCH_COLUMNS``).

    Text columns are written from ENUM-typed dimensions: DuckDB writes an ENUM as a
    dictionary-encoded Parquet string straight from its codes, where plain text would be
    hashed row by row (3× faster for 10M rows); readers see ordinary strings."""
    units = sorted({i.unit for i in fw.indicators})
    enums = {
        "e_ind": [r[0] for r in con.execute("SELECT code FROM dim_ind ORDER BY ik").fetchall()],
        "e_area": [r[0] for r in con.execute("SELECT code FROM dim_area ORDER BY ak")
                   .fetchall()],
        "e_per": [r[0] for r in con.execute("SELECT DISTINCT period FROM dim_per ORDER BY 1")
                  .fetchall()],
        "e_freq": ["A", "Q", "M"], "e_unit": units, "e_load": [load_id],
    }
    for name, values in enums.items():
        con.execute(f"DROP TYPE IF EXISTS {name}")
        con.execute(f"CREATE TYPE {name} AS ENUM (SELECT unnest(?::VARCHAR[]))", [values])
    # dim_ind holds the framework's indicators in order: ik is the position
    unit_of = pd.DataFrame({"ik": range(len(fw.indicators)),
                            "u_unit": [i.unit for i in fw.indicators]})
    con.register("unit_of_df", unit_of)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE w_ind AS
        SELECT d.ik, d.code::e_ind AS code, u.u_unit::e_unit AS unit
        FROM dim_ind d JOIN unit_of_df u USING (ik)""")
    con.execute("CREATE OR REPLACE TEMP TABLE w_area AS SELECT ak, code::e_area AS code "
                "FROM dim_area")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE w_per AS
        SELECT DISTINCT pk, period::e_per AS period, p_freq::e_freq AS freq,
               p_start::DATE AS period_start FROM dim_per""")
    tmp = path.with_suffix(".tmp")
    con.execute(f"""
        COPY (
          SELECT i.code AS indicator, a.code AS area_code, p.period, p.freq, p.period_start,
                 j.value, i.unit, ?::e_load AS load_id, ?::TIMESTAMPTZ AS vintage
          FROM j JOIN w_ind i USING (ik) JOIN w_area a USING (ak) JOIN w_per p USING (pk)
        ) TO '{tmp}' (FORMAT parquet, COMPRESSION zstd)
    """, [load_id, vintage])
    tmp.replace(path)


def _stats(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    inds = [r[0] for r in con.execute(
        "SELECT DISTINCT i.code FROM j JOIN dim_ind i USING (ik) ORDER BY 1").fetchall()]
    row = con.execute(
        "SELECT arg_min(p.period, p.p_start), arg_max(p.period, p.p_start) "
        "FROM (SELECT DISTINCT pk FROM j) jj JOIN (SELECT DISTINCT pk, period, p_start "
        "FROM dim_per) p USING (pk)").fetchall()[0]
    return {"indicators": inds, "period_min": row[0] if row else None,
            "period_max": row[1] if row else None}


def record_rejection(session: Session, actor: Actor, error: LoadRejected) -> ObservationLoad:
    """Keep a rejected upload in the load history (call after rolling the load back)."""
    require(actor, "data.load", None)
    vintage = next_vintage()
    problems = [
        {"message": p.message, "params": {k: _plain(v) for k, v in p.params.items()},
         "file": p.file, "row": p.row, "field": p.field, "value": _plain(p.value)}
        for p in error.problems
    ]
    load = ObservationLoad(
        load_id=new_load_id(vintage), dataset=error.meta.get("dataset"),
        department_code=None, source=str(error.meta.get("source") or ""),
        file_name=str(error.params.get("file") or ""), actor=actor.username,
        user_id=actor.user_id, created_at=vintage, vintage=vintage,
        sha256=str(error.meta.get("sha256") or ""), row_count=int(error.meta.get("rows") or 0),
        status="rejected", problem_count=error.total, problems=problems, indicators=[],
        illustrative=False,
    )
    session.add(load)
    session.flush()
    return load


def _plain(v: Any) -> Any:
    return v if v is None or isinstance(v, (str, int, float, bool)) else str(v)
