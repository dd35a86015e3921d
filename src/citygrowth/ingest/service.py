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

import duckdb
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import can, require
from citygrowth.catalog.datasets import Dataset, get_dataset
from citygrowth.catalog.framework import Framework
from citygrowth.db import utcnow
from citygrowth.errors import Forbidden
from citygrowth.ingest.readers import reader_for
from citygrowth.ingest.validate import CheckedUpload, LoadRejected, check
from citygrowth.observatory import batches
from citygrowth.observatory.models import ObservationLoad
from citygrowth.plugins import AcceptedLoad, collect_list
from citygrowth.runtime import Runtime
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
    session: Session, runtime: Runtime, actor: Actor, frame: pd.DataFrame, *,
    dataset: str | None = None, source: str, file_name: str | None = None,
    vintage: dt.datetime | None = None, illustrative: bool = False,
) -> LoadResult:
    """Load a long DataFrame (``indicator, area_code, period, value`` [+ ``unit``])."""
    ds = get_dataset(dataset, runtime.frameworks.load()) if dataset else None
    require(actor, "data.load", ds)
    started = time.perf_counter()
    con = _connect()
    try:
        frame = frame.reset_index(drop=True)
        if len(frame.columns) == 0:
            frame = pd.DataFrame({"indicator": pd.Series([], dtype="string")})
        con.register("src", frame)
        digest = frame_sha256(frame)
        return _load(Job(session=session, runtime=runtime, actor=actor, con=con,
                         file=file_name or "(data)", first_row=1, digest=digest, dataset=ds,
                         source=source, vintage=vintage, illustrative=illustrative,
                         started=started))
    finally:
        con.close()


def load_file(
    session: Session, runtime: Runtime, actor: Actor, path: Path | str, *,
    dataset: str | None = None, source: str = "file", file_name: str | None = None,
    progress: Progress | None = None, illustrative: bool = False,
) -> LoadResult:
    """Load a file read by the reader registered for its extension (CSV, XLSX, JSON …)."""
    ds = get_dataset(dataset, runtime.frameworks.load()) if dataset else None
    require(actor, "data.load", ds)
    started = time.perf_counter()
    path = Path(path)
    tell = progress or (lambda stage, fraction: None)
    tell("read", 0.0)
    reader = reader_for(runtime, path)
    con = _connect()
    with ThreadPoolExecutor(1) as pool:  # hash the file while DuckDB reads and checks it
        digest = pool.submit(file_sha256, path, True)
        try:
            read = reader(con, path)
            read.relation.create_view("src")
            tell("read", 1.0)
            return _load(Job(session=session, runtime=runtime, actor=actor, con=con,
                             file=file_name or path.name, first_row=read.first_row,
                             digest=digest, dataset=ds, source=source,
                             illustrative=illustrative, started=started, progress=tell))
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


@dataclass(kw_only=True)
class Job:
    """One load on its way: who, what, from which DuckDB connection, since when."""

    session: Session
    runtime: Runtime
    actor: Actor
    con: duckdb.DuckDBPyConnection
    file: str
    first_row: int
    digest: str | Future[str]
    dataset: Dataset | None
    source: str
    started: float
    vintage: dt.datetime | None = None
    illustrative: bool = False
    progress: Progress | None = None

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def sha256(self) -> str:
        return self.digest if isinstance(self.digest, str) else self.digest.result()


def _load(job: Job) -> LoadResult:
    fw = job.runtime.frameworks.load()
    tell = job.progress or (lambda stage, fraction: None)
    tell("validate", 0.0)
    rows = job.session.execute(select(Area.code, Area.level)).all()
    areas = pd.DataFrame({"code": [r[0] for r in rows], "level": [r[1] for r in rows]})
    today = job.runtime.today()
    checked = check(job.con, fw, areas, job.file, job.first_row, job.dataset, today)
    if checked.total:
        raise LoadRejected(
            checked.problems, checked.total, job.file, dataset=job.dataset.code
            if job.dataset else None, sha256=job.sha256, source=job.source, rows=checked.rows,
            department=job.dataset.department if job.dataset else None,
        )
    depts = _check_scope(job, checked, fw)
    tell("validate", 1.0)
    tell("store", 0.0)
    vintage = job.vintage or next_vintage()
    load_id = new_load_id(vintage)
    pending = batches.pending_path(job.settings, load_id)
    checked.write_batch(pending, load_id, vintage, fw)
    indicators = checked.indicator_codes()
    period_min, period_max = checked.period_range()
    department = depts[0] if len(depts) == 1 else None
    dataset = job.dataset.code if job.dataset else department
    load = ObservationLoad(
        load_id=load_id, dataset=dataset, department_code=department, source=job.source,
        file_name=job.file, actor=job.actor.username, user_id=job.actor.user_id,
        created_at=job.runtime.now(), vintage=vintage, sha256=job.sha256, row_count=checked.rows,
        status="accepted", problem_count=0, problems=[], indicators=indicators,
        period_min=period_min, period_max=period_max,
        batch_path=str(batches.batch_path(job.settings, load_id)),
        illustrative=job.illustrative,
    )
    job.session.add(load)
    job.session.flush()
    result = LoadResult(
        load_id=load_id, dataset=dataset, department=department, rows=checked.rows,
        indicators=indicators, period_min=period_min, period_max=period_max,
        vintage=vintage, sha256=job.sha256,
        batch_path=load.batch_path or "", seconds=time.perf_counter() - job.started,
        illustrative=job.illustrative,
    )
    accepted = AcceptedLoad(load_id=load_id, batch=pending, rows=checked.rows,
                            illustrative=job.illustrative, dataset=dataset)
    result.extra["warnings"] = collect_list(job.runtime.plugins.hook.citygrowth_load_accepted(
        runtime=job.runtime, session=job.session, load=accepted))
    # the load's department and areas scope who may read the event (``events.TOPICS``)
    payload = {**result.as_dict(), "source": job.source, "file_name": job.file,
               "department_code": department, "area_codes": checked.area_codes()}
    batches.add_pending(job.session, batches.PendingBatch(job.settings, load_id,
                                                          job.runtime.bus, payload))
    record(job.session, job.actor, "data.load", load_id,
           {"dataset": dataset, "rows": checked.rows, "sha256": job.sha256,
            "source": job.source})
    tell("store", 1.0)
    return result


def _check_scope(job: Job, checked: CheckedUpload, fw: Framework) -> list[str]:
    """The departments of the upload's indicators; each must be the actor's to load, in each
    area it names."""
    codes = checked.indicator_codes()
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
    for ind, area in checked.indicator_areas():
        if not can(job.actor, "data.load", {"department_code": imap[ind].department,
                                            "area_code": area}):
            raise Forbidden("You may not load data for area {area}.", code="area_out_of_scope",
                            area=area)
    return sorted(by_dept)


def record_rejection(session: Session, actor: Actor, error: LoadRejected) -> ObservationLoad:
    """Keep a rejected upload in the load history (call after rolling the load back)."""
    require(actor, "data.load", None)
    # the refused file's department, so that its officers see it on data health: the
    # dataset's, else the uploader's own department when there is one
    own = sorted(actor.department_codes)
    department = error.meta.get("department") or (own[0] if len(own) == 1 else None)
    vintage = next_vintage()
    problems = [
        {"message": p.message, "params": {k: _plain(v) for k, v in p.params.items()},
         "file": p.file, "row": p.row, "field": p.field, "value": _plain(p.value)}
        for p in error.problems
    ]
    load = ObservationLoad(
        load_id=new_load_id(vintage), dataset=error.meta.get("dataset"),
        department_code=department, source=str(error.meta.get("source") or ""),
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
