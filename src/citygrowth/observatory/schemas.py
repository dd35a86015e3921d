"""Pydantic shapes of the observatory API's answers."""

from __future__ import annotations

from pydantic import BaseModel, Field

from citygrowth.web.openapi import DateText, Timestamp
from citygrowth.web.paging import Page


class ObservationOut(BaseModel):
    """One value of an indicator for an area and a period, as of its vintage."""

    indicator: str
    area_code: str
    period: str = Field(description="2024, 2024-Q3, 2024-09 …")
    freq: str = Field(description="A, Q, M, W or D")
    value: float | None
    unit: str | None
    load_id: str = Field(description="The load that brought it")
    vintage: Timestamp = Field(description="When it became known")


class RollupRowOut(BaseModel):
    indicator: str
    area_code: str
    period: str
    freq: str
    value: float | None
    unit: str | None
    children: int = Field(description="How many finer areas it was made from")


class FreshnessOut(BaseModel):
    indicator: str
    name_zh: str
    name_en: str
    department: str | None
    frequency: str
    last_load_at: Timestamp | None
    last_period: str | None
    expected_next: DateText | None
    stale: bool


class FreshnessPage(Page[FreshnessOut]):
    stale: int = Field(description="How many indicators are late")
