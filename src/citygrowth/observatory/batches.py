"""Immutable Parquet batches: written as *pending*, made visible when the transaction commits.

A load writes its observations to ``<data_dir>/observations/pending/<load_id>.parquet`` and
records itself in the operational store. When that session commits, the file is renamed into
``observations/batches/`` (an atomic rename), every in-process store cache is told, and
``observations.loaded`` is published on the bus; when it rolls back, the pending file is
deleted. So a query never sees a batch whose load record does not exist, and a load is
visible to the very next query after its commit.

Columns of every batch (``BATCH_COLUMNS``): indicator, area_code, period (canonical text),
freq (A/Q/M), period_start (date), value (double, in the indicator's unit), unit, load_id,
vintage (UTC timestamp).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from citygrowth.events import EventBus
from citygrowth.logging_setup import get_logger
from citygrowth.observatory.models import ObservationLoad
from citygrowth.settings import Settings

log = get_logger(__name__)

BATCH_COLUMNS: tuple[str, ...] = (
    "indicator", "area_code", "period", "freq", "period_start", "value", "unit", "load_id",
    "vintage",
)
_PENDING_KEY = "citygrowth_pending_batches"
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


def promote(batch: PendingBatch) -> None:
    src = pending_path(batch.settings, batch.load_id)
    if src.exists():
        os.replace(src, batch_path(batch.settings, batch.load_id))
    bump_generation(batch.settings)
    if batch.bus is not None:
        batch.bus.publish("observations.loaded", batch.payload)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for batch in session.info.pop(_PENDING_KEY, []):
        try:
            promote(batch)
        except OSError:  # the load is recorded; `citygrowth data repair` finishes it
            log.exception("batch_promotion_failed", load_id=batch.load_id)


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


def repair_pending(session: Session, settings: Settings) -> tuple[int, int]:
    """Promote pending batches whose load is recorded as accepted; delete the others."""

    promoted = removed = 0
    for path in sorted(pending_dir(settings).glob("*.parquet")):
        load_id = path.stem
        accepted = session.scalar(select(ObservationLoad.id).where(
            ObservationLoad.load_id == load_id, ObservationLoad.status == "accepted"))
        if accepted is not None:
            os.replace(path, batch_path(settings, load_id))
            promoted += 1
        else:
            path.unlink()
            removed += 1
    if promoted:
        bump_generation(settings)
    return promoted, removed
