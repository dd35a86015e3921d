"""Pydantic models at the edges of the index API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from citygrowth.inputs import InputModel
from citygrowth.web.openapi import Timestamp
from citygrowth.web.paging import Page


class ComputeIn(InputModel):
    """Body of ``POST /api/index/runs``."""

    framework: str = Field("default", min_length=1, max_length=60,
                           pattern=r"^[A-Za-z0-9_.-]+$",
                           description="Catalog framework name (default: the City Growth Index).")


class ResultRowOut(BaseModel):
    """A node's score (0–100) and rank for a unit and a period."""

    unit: str = Field(description="The area code")
    period: str
    code: str = Field(description="The node: the index, a pillar, a sub-pillar or an indicator")
    value: float | None
    rank: int | None


class RunOut(BaseModel):
    id: int
    framework: str
    framework_version: str
    vintage: str = Field(description="The data vintage computed from")
    status: str = Field(description="running, done or failed")
    levels: list[str]
    rows: int
    message: str
    actor: str
    started_at: Timestamp | None
    finished_at: Timestamp | None


class RunAnswer(BaseModel):
    ok: Literal[True] = True
    run: RunOut


class StatOut(BaseModel):
    code: str
    n: int
    missing: float
    min: float | None
    max: float | None
    mean: float | None
    median: float | None
    sd: float | None
    skew: float | None
    kurtosis: float | None
    outliers: bool


class AuditOut(BaseModel):
    """The statistical audit (JRC/OECD handbook checks) of the latest run."""

    ok: Literal[True] = True
    stats: list[StatOut]
    flags: list[dict[str, Any]] = Field(description="What the checks found (collinear, "
                                                    "skewed, weak …)")
    groups: list[dict[str, Any]] = Field(description="Per node: Cronbach's alpha and the "
                                                     "first component's share")
    correlations: dict[str, dict[str, float | None]]
    denominators: dict[str, dict[str, float | None]] = Field(
        description="Each indicator's correlation with the denominators it may hide")


class UncertaintyRowOut(BaseModel):
    unit: str
    period: str
    nominal: float | None
    median: float | None
    q05: float | None
    q95: float | None
    zero_share: float | None = Field(description="Share of replications in which a zero "
                                                 "under the geometric mean set the index")


class UncertaintyPage(Page[UncertaintyRowOut]):
    replications: int
    zero_replications: int


class ContributionOut(BaseModel):
    indicator: str
    start: float | None
    end: float | None
    change: float | None
    contribution: float | None


class ExplanationOut(BaseModel):
    ok: Literal[True] = True
    change: float | None = Field(description="The node's change between the two periods")
    residual: float | None
    rows: list[ContributionOut]


class StrengthOut(BaseModel):
    indicator: str
    rank: int | None
    of: int
    value: float | None
    score: float | None


class StrengthsOut(BaseModel):
    ok: Literal[True] = True
    strengths: list[StrengthOut]
    weaknesses: list[StrengthOut]
