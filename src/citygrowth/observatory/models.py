"""The load ledger: one row per attempt to add observations (accepted or rejected), with its
metadata. It belongs to the observation store (every reader of the store — freshness, data
health, anomaly reviews, batch repair — reads it); ingest writes it. Its table was created by
the ``ingest`` migration branch (``ingest/migrations/ingest_0001_loads.py``), which keeps that
history; later changes go into ``observatory/migrations``.

The observations themselves live in the analytical store as one immutable Parquet batch per
accepted load (``observatory/store.py``); this table says who sent them, when, from what
source (SHA-256), under which vintage, and — for rejected loads — what was wrong.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from citygrowth.db import Base, UTCDateTime, utcnow


class ObservationLoad(Base):
    __tablename__ = "observation_loads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    load_id: Mapped[str] = mapped_column(String(40), unique=True)
    dataset: Mapped[str | None] = mapped_column(String(40), index=True)
    department_code: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str | None] = mapped_column(String(300))
    actor: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    vintage: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sha256: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), index=True)  # accepted | rejected
    problem_count: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    indicators: Mapped[list[str]] = mapped_column(JSON, default=list)
    period_min: Mapped[str | None] = mapped_column(String(12))
    period_max: Mapped[str | None] = mapped_column(String(12))
    batch_path: Mapped[str | None] = mapped_column(String(300))
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def department(self) -> str | None:
        return self.department_code


__all__ = ["ObservationLoad"]
