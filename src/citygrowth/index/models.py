"""The index domain's table: one row per computation of the index (a run)."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from citygrowth.db import Base, UTCDateTime, utcnow


class IndexRun(Base):
    """A computation of a framework's index on one data vintage. Results live as Parquet
    under ``<data_dir>/results/<framework>/<version>/<vintage key>/``."""

    __tablename__ = "index_runs"
    __table_args__ = (Index("ix_index_runs_framework_code_vintage", "framework_code",
                            "vintage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    framework_code: Mapped[str] = mapped_column(String(40), nullable=False)
    framework_version: Mapped[str] = mapped_column(String(40), nullable=False)
    vintage: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    levels: Mapped[str] = mapped_column(Text, nullable=False)
    rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    results_path: Mapped[str] = mapped_column(String(500), nullable=False)
    settings_json: Mapped[str] = mapped_column(Text, nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False,
                                                    default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id, "framework": self.framework_code,
            "framework_version": self.framework_version, "vintage": self.vintage,
            "status": self.status, "levels": json.loads(self.levels), "rows": self.rows,
            "message": self.message, "actor": self.actor,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }
