"""Pydantic shapes of the analysis API's answers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from citygrowth.web.openapi import DateText, Timestamp
from citygrowth.web.paging import Page


class BacktestOut(BaseModel):
    mase: float | None
    smape: float | None
    origins: float | None
    horizon: float | None


class ForecastOut(BaseModel):
    """A forecast with 80 % and 95 % intervals; the method won a rolling-origin backtest."""

    indicator: str
    area_code: str
    method: str
    freq: str
    last_period: str
    periods: list[str]
    mean: list[float]
    sd: list[float]
    lower80: list[float]
    upper80: list[float]
    lower95: list[float]
    upper95: list[float]
    backtest: dict[str, BacktestOut] = Field(description="Per method tried")
    n: int = Field(description="Observations the forecast is made from")
    season: int
    notes: list[str]


class BreakOut(BaseModel):
    period: str
    index: int
    before: float
    after: float
    chow_f: float | None
    chow_p: float | None
    text: str


class BreaksOut(BaseModel):
    indicator: str
    area_code: str
    breaks: list[BreakOut]


class LagOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    lag: int
    r: float | None
    significant: bool


class RelationOut(BaseModel):
    """An association, never a cause: the strongest significant lag, if any."""

    params: dict[str, Any]
    ccf: list[LagOut] = Field(description="Cross-correlation of the differences by lag")
    granger: dict[str, float | None] = Field(description="Granger p-value by lag")
    text: str
    lag: int | None = None
    r: float | None = None


class AnomalyOut(BaseModel):
    """A value of a load that the checks found unusual, and what was decided."""

    id: int
    load_id: str
    kind: str
    kind_name: str
    indicator: str
    area_code: str
    period: str
    value: float | None
    expected: float | None
    severity: str
    message: str
    params: dict[str, Any]
    key: str
    text: str
    decision: str = Field(description="pending, accepted or returned")
    note: str
    decided_by: str | None
    decided_at: Timestamp | None


class AnomalyPage(Page[AnomalyOut]):
    load_id: str


class OddsOut(BaseModel):
    """The probability of reaching a target by its deadline and how it was worked out."""

    model_config = ConfigDict(extra="allow")

    target: str
    odds: float | None
    today: DateText | None = None


class BriefingSummaryOut(BaseModel):
    id: int
    area_code: str
    month: str
    locale: str
    formats: list[str]
    figures: int
    created_at: Timestamp


class BriefingOut(BaseModel):
    """A briefing: its figures, charts and numbered sources (as in its PDF and Word files)."""

    model_config = ConfigDict(extra="allow")

    id: int
    formats: list[str]
