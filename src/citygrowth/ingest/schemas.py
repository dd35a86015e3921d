"""Pydantic shapes of the intake API's answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from citygrowth.catalog.schemas import DatasetOut
from citygrowth.web.openapi import ProblemOut, Timestamp

__all__ = ["DatasetOut", "LoadOut", "LoadRecordOut"]


class LoadOut(BaseModel):
    """An accepted load (a rejected one is a 422 naming every problem)."""

    ok: Literal[True] = True
    load_id: str
    dataset: str | None
    department: str | None
    rows: int
    indicators: list[str]
    period_min: str | None
    period_max: str | None
    vintage: Timestamp
    sha256: str
    seconds: float = Field(description="How long the load took")
    illustrative: bool
    warnings: list[dict[str, Any]] = Field(
        description="Values the anomaly checks found unusual, kept with the load for review")


class LoadRecordOut(BaseModel):
    id: int
    load_id: str
    status: str = Field(description="accepted or rejected")
    dataset: str | None
    department: str | None
    source: str
    file_name: str
    actor: str
    created_at: Timestamp
    vintage: Timestamp
    sha256: str
    rows: int
    problem_count: int
    period_min: str | None
    period_max: str | None
    illustrative: bool
    indicators: list[str]
    problems: list[ProblemOut]
