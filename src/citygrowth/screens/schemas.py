"""Pydantic shapes of the screens' JSON twins.

These answers feed the pages' charts: each names the fields a page reads and carries the
ECharts options built from them. They are documents made for the screens (more fields may be
added as the screens grow; ``additionalProperties`` says so), not lists.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from citygrowth.web.openapi import Chart


class _Screen(BaseModel):
    model_config = ConfigDict(extra="allow")

    ok: Literal[True] = True


class Named(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    name: str


class MapItemOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    name: str
    value: float | None


class ScreenSummaryOut(_Screen):
    """Everything the big screen shows for the areas one level below ``parent``."""

    level: str
    parent: str
    parent_name: str
    period: str | None = None
    map_items: list[MapItemOut] = Field(default_factory=list)
    key_figures: list[dict[str, Any]] = Field(default_factory=list)
    targets: list[dict[str, Any]] = Field(default_factory=list)
    feed: list[dict[str, Any]] = Field(default_factory=list,
                                       description="The newest case events")
    options: dict[str, Chart] = Field(default_factory=dict)


class Freshness(BaseModel):
    model_config = ConfigDict(extra="allow")

    last_period: str | None
    stale: bool


class SeriesOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    area_code: str
    name: str
    values: list[float | None]


class ExploreSeriesOut(_Screen):
    indicator: dict[str, Any]
    periods: list[str]
    series: list[SeriesOut]
    option: Chart
    freshness: Freshness | None = None


class ExploreMapOut(_Screen):
    indicator: dict[str, Any]
    level: str
    parent: str
    period: str | None
    items: list[MapItemOut]
    option: Chart | None
    freshness: Freshness | None = None


class DataHealthOut(_Screen):
    indicators: list[dict[str, Any]] = Field(description="Freshness per indicator")
    departments: list[dict[str, Any]]
    late: list[dict[str, Any]]
    failed_loads: list[dict[str, Any]]
    option: Chart | None = None


class ProfileOut(_Screen):
    """An area: index, rank, pillars, drivers, strengths, targets and cases."""

    code: str
    name: str
    level: str
    ancestors: list[Named]
    children: list[Named]
    options: dict[str, Chart | None] = Field(default_factory=dict)


class RankIntervalOut(BaseModel):
    """The rank and its interval; only ``code`` and ``period`` (null) before an index run."""

    ok: Literal[True] = True
    code: str
    period: str | None
    rank: int | None = None
    of: int | None = None
    median: float | None = None
    q05: float | None = None
    q95: float | None = None


class WorkbenchStateOut(_Screen):
    level: str
    tree: list[dict[str, Any]]
    framework: dict[str, Any]
    methods: dict[str, Any] = Field(description="The methods on offer, by step")
    current: dict[str, Any] = Field(description="The methods in force")


class WorkbenchPreviewOut(_Screen):
    level: str
    rows: list[dict[str, Any]] = Field(description="Per area: score and rank before and after")
    moved: int
    blocked: bool
    warnings: list[dict[str, Any]]
    option: Chart | None


class WorkbenchAnalysisOut(_Screen):
    level: str
    flags: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    uncertainty: list[dict[str, Any]]


class SensitivityOut(_Screen):
    level: str
    replications: int
    indices: list[dict[str, Any]] = Field(description="First and total Sobol indices by factor")
    option: Chart | None = None


class PublishedFrameworkOut(BaseModel):
    ok: Literal[True] = True
    framework: str
    version: str
    run_id: int
    vintage: str
    message: str
