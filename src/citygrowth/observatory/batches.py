"""Immutable Parquet batches: written as *pending*, made visible when the transaction commits.

A load writes its observations to ``<data_dir>/observations/pending/<load_id>.parquet`` and
records itself in the operational store. When that session commits, the file is renamed into
``observations/batches/`` (an atomic rename, synced to the disk with its folders), every
in-process store cache is told, and ``observations.loaded`` is published on the bus; when it
rolls back, the pending file is deleted. So a query never sees a batch whose load record does
not exist, and a load is visible to the very next query after its commit.

Should the rename fail after the commit (a full or read-only disk), the load is recorded but
not visible: the caller is told so (:class:`BatchNotVisible`, a 503 — never a 200 as if done,
see ``db.transaction``), data health lists the load (:func:`invisible_loads`), and
:func:`repair_pending` finishes it — at every start of the app or a command
(:func:`recover_at_start`), every ten minutes in the app's scheduler, and with ``citygrowth
data repair``. A crash between the commit and the rename is repaired the same way.

Columns of every batch (``BATCH_COLUMNS``): indicator, area_code, period (canonical text),
freq (A/Q/M), period_start (date), value (double, in the indicator's unit), unit, load_id,
vintage (UTC timestamp).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from citygrowth import durable
from citygrowth.db import AFTER_COMMIT_FAILURES
from citygrowth.events import EventBus
from citygrowth.i18n import N_
from citygrowth.logging_setup import get_logger
from citygrowth.observatory.models import ObservationLoad
from citygrowth.settings import Settings
from citygrowth.storage import StorageUnavailable, failure_kind

if TYPE_CHECKING:
    from citygrowth.runtime import Runtime

log = get_logger(__name__)

BATCH_COLUMNS: tuple[str, ...] = (
    "indicator", "area_code", "period", "freq", "period_start", "value", "unit", "load_id",
    "vintage",
)
_PENDING_KEY = "citygrowth_pending_batches"
#: a pending file younger than this may be a load still in flight (in this or another process)
STALE_PENDING_SECONDS = 600
#: how often the app's scheduler repeats the repair
REPAIR_EVERY_SECONDS = 600
_generation: dict[str, int] = {}
_gen_lock = threading.Lock()


def observations_dir(settings: Settings) -> Path:
    return settings.store_dir / "observations"


def batches_dir(settings: Settings) -> Path:
    d = observations_dir(settings) / "batches"
    d.mkdir(parents=True, exist_ok=True)
    return d


def pending_dir(settings: Settings) -> Path:
    d = observations_dir(settings) / "pending"
    d.mkdir(parents=True, exist_ok=True)
    return d


def pending_path(settings: Settings, load_id: str) -> Path:
    return pending_dir(settings) / f"{load_id}.parquet"


def batch_path(settings: Settings, load_id: str) -> Path:
    return batches_dir(settings) / f"{load_id}.parquet"


def generation(settings: Settings) -> int:
    """A counter bumped whenever a batch becomes visible in this process."""
    return _generation.get(str(batches_dir(settings).resolve()), 0)


def bump_generation(settings: Settings) -> None:
    key = str(batches_dir(settings).resolve())
    with _gen_lock:
        _generation[key] = _generation.get(key, 0) + 1


@dataclass
class PendingBatch:
    settings: Settings
    load_id: str
    bus: EventBus | None
    payload: dict[str, Any] = field(default_factory=dict)


def add_pending(session: Session, batch: PendingBatch) -> None:
    """Promote ``batch`` when ``session`` commits; delete it when it rolls back."""
    session.info.setdefault(_PENDING_KEY, []).append(batch)


class BatchNotVisible(StorageUnavailable):
    """The load was committed but its batch could not be moved into ``batches/``."""

    code = "load_not_visible"

    def __init__(self, load_id: str, kind: str, detail: str) -> None:
        super().__init__(
            N_("Load {load_id} was recorded, but its data could not be moved into the "
               "observation store (the server's storage failed). Do not send it again: it "
               "becomes visible by itself once the storage works again (at the latest at the "
               "next start of the server)."),
            kind=kind, detail=detail, load_id=load_id)
        self.retry_after = REPAIR_EVERY_SECONDS


def promote(batch: PendingBatch) -> None:
    """Move the batch into ``batches/`` (durably), tell the caches, publish the event."""
    src = pending_path(batch.settings, batch.load_id)
    dst = batch_path(batch.settings, batch.load_id)
    try:
        durable.replace(src, dst)
    except FileNotFoundError:
        if not dst.exists():  # neither pending nor visible: lost (data health lists it)
            raise
        # a repair in another process moved it first
    bump_generation(batch.settings)
    if batch.bus is not None:
        batch.bus.publish("observations.loaded", batch.payload)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for batch in session.info.pop(_PENDING_KEY, []):
        try:
            promote(batch)
        except OSError as exc:  # the load is recorded: the repair finishes it; say so
            log.error("batch_promotion_failed", load_id=batch.load_id, error=str(exc)[:300])
            session.info.setdefault(AFTER_COMMIT_FAILURES, []).append(
                BatchNotVisible(batch.load_id, failure_kind(exc) or "unreachable", str(exc)))


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    for batch in session.info.pop(_PENDING_KEY, []):
        pending_path(batch.settings, batch.load_id).unlink(missing_ok=True)


def visible_batches(settings: Settings) -> list[Path]:
    return sorted(batches_dir(settings).glob("*.parquet"))


def signature(settings: Settings) -> tuple[int, int, int]:
    """Changes whenever a batch appears (in this process or another one)."""
    d = batches_dir(settings)
    st = d.stat()
    return (st.st_mtime_ns, len(os.listdir(d)), generation(settings))


@dataclass
class Repair:
    """What a repair did: batches made visible, leftovers removed, files of loads still in
    flight left alone, scratch folders of dead processes removed."""

    promoted: int = 0
    removed: int = 0
    in_flight: int = 0
    scratch: int = 0
    invisible: list[dict[str, Any]] = field(default_factory=list)


def repair_pending(session: Session, settings: Settings, now: float | None = None) -> Repair:
    """Promote pending batches whose load is recorded as accepted; delete the other pending
    files (``.parquet`` and DuckDB's ``.tmp``) once they are older than
    ``STALE_PENDING_SECONDS`` — a younger one may belong to a load in flight."""
    now = time.time() if now is None else now
    out = Repair()
    folder = pending_dir(settings)
    for path in sorted(folder.iterdir()):
        if path.suffix == ".parquet":
            accepted = session.scalar(select(ObservationLoad.id).where(
                ObservationLoad.load_id == path.stem, ObservationLoad.status == "accepted"))
            if accepted is not None:
                try:
                    durable.replace(path, batch_path(settings, path.stem))
                except FileNotFoundError:  # its own process moved it meanwhile
                    continue
                except OSError as exc:  # still failing: stays listed as not visible
                    log.error("batch_promotion_failed", load_id=path.stem,
                              error=str(exc)[:300])
                    continue
                out.promoted += 1
                continue
        try:
            stale = now - path.stat().st_mtime > STALE_PENDING_SECONDS
        except FileNotFoundError:
            continue
        if stale:
            path.unlink(missing_ok=True)
            out.removed += 1
        else:
            out.in_flight += 1
    if out.promoted or out.removed:
        durable.fsync_dir(folder)
    if out.promoted:
        bump_generation(settings)
    return out


def invisible_loads(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """Accepted loads whose batch is not in ``batches/``: ``pending`` (written, not yet moved:
    the repair finishes it) or ``missing`` (no file at all: load the data again)."""
    visible = {p.stem for p in visible_batches(settings)}
    pending = {p.stem for p in pending_dir(settings).glob("*.parquet")}
    rows = session.execute(select(
        ObservationLoad.load_id, ObservationLoad.created_at, ObservationLoad.dataset,
        ObservationLoad.department_code, ObservationLoad.file_name, ObservationLoad.actor,
        ObservationLoad.row_count).where(ObservationLoad.status == "accepted")).all()
    return [{"load_id": r.load_id, "created_at": r.created_at, "dataset": r.dataset,
             "department": r.department_code, "file_name": r.file_name, "actor": r.actor,
             "rows": r.row_count, "state": "pending" if r.load_id in pending else "missing"}
            for r in rows if r.load_id not in visible]


def recover(session: Session, settings: Settings) -> Repair:
    """The repair, the scratch folder's leftovers, and what is still not visible."""
    out = repair_pending(session, settings)
    out.scratch = durable.clean_scratch(settings)
    out.invisible = invisible_loads(session, settings)
    return out


def recover_at_start(runtime: Runtime) -> Repair | None:
    """Run :func:`recover` when the app or a command starts (None when the store has no
    tables yet, or cannot be read: start-up goes on, and says so)."""
    try:
        if not inspect(runtime.engine).has_table(ObservationLoad.__tablename__):
            return None
        with runtime.session() as session:
            out = recover(session, runtime.settings)
    except (SQLAlchemyError, OSError) as exc:
        log.warning("startup_repair_failed", error=str(exc).splitlines()[0][:300])
        return None
    if out.promoted or out.removed or out.scratch:
        log.warning("startup_repair", promoted=out.promoted, removed=out.removed,
                    scratch_removed=out.scratch)
    if out.invisible:
        log.error("loads_not_visible", loads=[r["load_id"] for r in out.invisible][:20],
                  count=len(out.invisible))
    return out


def repair_job(runtime: Runtime) -> dict[str, int]:
    """The scheduled repair (``observatory.repair``): accepted loads made visible without a
    restart once the storage works again."""
    with runtime.session() as session:
        out = repair_pending(session, runtime.settings)
    out.scratch = durable.clean_scratch(runtime.settings)
    return {"promoted": out.promoted, "removed": out.removed, "scratch": out.scratch}
