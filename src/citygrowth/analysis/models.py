"""The analysis domain's tables: the briefing archive and anomaly warnings with decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from citygrowth.db import Base, UTCDateTime, utcnow

DECISIONS = ("pending", "accepted", "returned")


class BriefingRecord(Base):
    """One archived briefing (its files live under ``data_dir/exports/briefings/``)."""

    __tablename__ = "analysis_briefings"
    __table_args__ = (UniqueConstraint("area_code", "month", "locale"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    month: Mapped[str] = mapped_column(String(7))
    locale: Mapped[str] = mapped_column(String(8))
    folder: Mapped[str] = mapped_column(String(400))
    formats: Mapped[list[str]] = mapped_column(JSON, default=list)
    vintage: Mapped[str] = mapped_column(String(60), default="")
    figure_count: Mapped[int] = mapped_column(Integer, default=0)
    sentence_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AnomalyRecord(Base):
    """A warning raised on a load, and what the loader decided (accept or send back)."""

    __tablename__ = "analysis_anomalies"
    __table_args__ = (UniqueConstraint("load_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    load_id: Mapped[str] = mapped_column(String(40), index=True)
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    indicator: Mapped[str] = mapped_column(String(60))
    area_code: Mapped[str] = mapped_column(String(15), index=True)
    period: Mapped[str] = mapped_column(String(12))
    value: Mapped[float] = mapped_column(Float)
    expected: Mapped[float | None] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decision: Mapped[str] = mapped_column(String(10), default="pending")
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
