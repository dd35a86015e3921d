"""The operating tables: runs of scheduled jobs, and the outbox that carries events between
processes (web workers, the scheduler, the command line)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from citygrowth.db import Base, UTCDateTime, utcnow


class SchedulerRun(Base):
    """One run of a scheduled job for one fire time. The unique (job, fire_time) is the claim:
    however many schedulers race for a fire time, one inserts the row and runs the job."""

    __tablename__ = "scheduler_runs"
    __table_args__ = (UniqueConstraint("job", "fire_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(80), index=True)
    fire_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12), default="running")  # running|done|failed
    host: Mapped[str] = mapped_column(String(120), default="")
    message: Mapped[str] = mapped_column(Text, default="")


class OutboxEvent(Base):
    """An event published in one process, for the event streams of every other process."""

    __tablename__ = "event_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[str] = mapped_column(String(40))
    origin: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
