"""The few SDMX 2.1 information-model pieces citygrowth publishes, as plain dataclasses.

One data structure (``DSD_CGI``) with dimensions FREQ, INDICATOR, AREA and TIME_PERIOD,
attributes UNIT_MEASURE, UNIT_MULT and OBS_STATUS, and the primary measure OBS_VALUE; one
dataflow (``CGI``) using it; the codelists and the concept scheme they reference. Everything
belongs to one maintenance agency (``CN_<district code>``) and carries one version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ID_PATTERN = re.compile(r"^[A-Za-z0-9_@$\-]+$")
SERIES_DIMENSIONS = ("FREQ", "INDICATOR", "AREA")
TIME_DIMENSION = "TIME_PERIOD"
PRIMARY_MEASURE = "OBS_VALUE"


@dataclass(frozen=True)
class Code:
    id: str
    name_en: str
    name_zh: str = ""
    parent: str | None = None
    description_en: str = ""
    description_zh: str = ""


@dataclass(frozen=True)
class Codelist:
    id: str
    name_en: str
    name_zh: str
    codes: tuple[Code, ...]

    def code_ids(self) -> set[str]:
        return {c.id for c in self.codes}


@dataclass(frozen=True)
class Concept:
    id: str
    name_en: str
    name_zh: str


@dataclass(frozen=True)
class ConceptScheme:
    id: str
    name_en: str
    name_zh: str
    concepts: tuple[Concept, ...]


@dataclass(frozen=True)
class Component:
    """A dimension, the time dimension, an attribute or the primary measure."""

    id: str
    kind: str  # "dimension" | "time" | "attribute" | "measure"
    codelist: str | None = None
    text_type: str | None = None
    # attributes only: "series" (related to the series dimensions) or "observation"
    attachment: str = "observation"
    mandatory: bool = False


@dataclass(frozen=True)
class DataStructure:
    id: str
    name_en: str
    name_zh: str
    components: tuple[Component, ...]

    @property
    def dimensions(self) -> tuple[Component, ...]:
        return tuple(c for c in self.components if c.kind in ("dimension", "time"))

    @property
    def key_dimensions(self) -> tuple[Component, ...]:
        return tuple(c for c in self.components if c.kind == "dimension")

    @property
    def attributes(self) -> tuple[Component, ...]:
        return tuple(c for c in self.components if c.kind == "attribute")


@dataclass(frozen=True)
class Dataflow:
    id: str
    name_en: str
    name_zh: str
    structure: str
    description_en: str = ""
    description_zh: str = ""


@dataclass(frozen=True)
class StructureSet:
    """Every structure of one agency and version, looked up by resource type and id."""

    agency: str
    version: str
    codelists: tuple[Codelist, ...]
    concept_schemes: tuple[ConceptScheme, ...]
    structures: tuple[DataStructure, ...]
    dataflows: tuple[Dataflow, ...]
    # SDMX code id -> our own code, where they differ (e.g. indicator codes with dots)
    indicator_ids: dict[str, str] = field(default_factory=dict)

    def codelist(self, id: str) -> Codelist:
        return next(c for c in self.codelists if c.id == id)

    def structure(self, id: str) -> DataStructure:
        return next(s for s in self.structures if s.id == id)

    def dataflow(self, id: str) -> Dataflow | None:
        return next((f for f in self.dataflows if f.id == id), None)

    def urn(self, cls: str, id: str) -> str:
        return f"urn:sdmx:org.sdmx.infomodel.{cls}={self.agency}:{id}({self.version})"


def sdmx_id(code: str) -> str:
    """A valid SDMX identifier for one of our codes (dots and spaces become ``_``)."""
    if ID_PATTERN.match(code):
        return code
    return re.sub(r"[^A-Za-z0-9_@$\-]", "_", code) or "_"
