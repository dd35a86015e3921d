"""Pydantic shapes of the catalog API's answers (the framework, its indicators, datasets)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FrameworkOut(BaseModel):
    code: str
    version: str
    name_zh: str
    name_en: str
    indicators: int = Field(description="How many indicators it has")


class RollupOut(BaseModel):
    rule: str = Field(description="sum, mean, population_weighted, ratio_of_sums …")
    numerator: str | None = None
    denominator: str | None = None
    scale: float | None = None


class GoalpostsOut(BaseModel):
    lo: float
    hi: float


class NodeOut(BaseModel):
    """A node of the framework: the index, a pillar, a sub-pillar or an indicator."""

    code: str
    name_zh: str
    name_en: str
    level: int = Field(description="0 index, 1 pillar, 2 sub-pillar, 3 indicator")
    parent: str | None
    weight: float = Field(description="Relative among its siblings")
    kind: str
    description: str


class IndicatorOut(NodeOut):
    unit: str
    direction: int = Field(description="1: more is better; -1: less is better")
    department: str
    frequency: str
    finest_level: str
    rollup: RollupOut
    source: str
    citation: str
    ref: str
    target: float | None
    supporting: bool = Field(description="Measured and shown, but not weighed in the index")
    goalposts: GoalpostsOut | None


class TreeNodeOut(BaseModel):
    """A node with its children (indicators carry their own fields)."""

    model_config = ConfigDict(extra="allow")

    code: str
    name_zh: str
    name_en: str
    level: int
    parent: str | None
    weight: float
    kind: str
    description: str
    children: list[TreeNodeOut] = Field(default_factory=list)


class DepartmentOut(BaseModel):
    code: str
    name_zh: str
    name_en: str


class FrameworkTreeOut(BaseModel):
    code: str
    version: str
    name_zh: str
    name_en: str
    tree: TreeNodeOut
    supporting: list[IndicatorOut]
    departments: list[DepartmentOut]
    sources: dict[str, str]


class PathNodeOut(BaseModel):
    code: str
    name_zh: str
    name_en: str


class IndicatorDetailOut(IndicatorOut):
    path: list[PathNodeOut] = Field(description="The index, pillar and sub-pillar above it")


class DatasetIndicatorOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    unit: str
    frequency: str
    finest_level: str


class DatasetOut(BaseModel):
    """What a department sends: its columns and the indicators in it."""

    code: str
    department: str
    name_zh: str
    name_en: str
    columns: list[str]
    indicators: list[DatasetIndicatorOut]
