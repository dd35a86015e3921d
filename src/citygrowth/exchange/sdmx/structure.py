"""Build the published SDMX structures from the indicator catalog and the area tree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from citygrowth.exchange.sdmx.model import (
    Code,
    Codelist,
    Component,
    Concept,
    ConceptScheme,
    Dataflow,
    DataStructure,
    StructureSet,
    sdmx_id,
)
from citygrowth.exchange.sdmx.units import MULTIPLIERS, unit_codes

VERSION = "1.0"
FLOW_ID = "CGI"
DSD_ID = "DSD_CGI"
CONCEPTS_ID = "CS_CGI"


@dataclass(frozen=True)
class IndicatorInfo:
    """What the exchange needs to know of one indicator of the framework."""

    code: str
    name_zh: str
    name_en: str
    unit: str = ""
    frequency: str = "A"
    department: str = ""
    pillar: str = ""
    pillar_name_zh: str = ""
    pillar_name_en: str = ""
    description_zh: str = ""
    description_en: str = ""
    finest_level: str = "district"
    source: str = ""


@dataclass(frozen=True)
class AreaInfo:
    code: str
    name_zh: str
    name_en: str
    level: str
    parent_code: str | None = None


FREQ_CODES = (
    Code("A", "Annual", "年"), Code("Q", "Quarterly", "季"), Code("M", "Monthly", "月"),
    Code("W", "Weekly", "周"), Code("D", "Daily", "日"),
)
OBS_STATUS_CODES = (
    Code("A", "Normal value", "正常值"), Code("E", "Estimated value", "估计值"),
    Code("P", "Provisional value", "初步值"), Code("B", "Time series break", "序列中断"),
    Code("M", "Missing value; data cannot exist", "缺失值"),
)
CONCEPTS = (
    Concept("FREQ", "Frequency", "频率"),
    Concept("INDICATOR", "Indicator", "指标"),
    Concept("AREA", "Area", "区域"),
    Concept("TIME_PERIOD", "Time period", "时期"),
    Concept("OBS_VALUE", "Observation value", "观测值"),
    Concept("UNIT_MEASURE", "Unit of measure", "计量单位"),
    Concept("UNIT_MULT", "Unit multiplier", "单位倍数"),
    Concept("OBS_STATUS", "Observation status", "观测值状态"),
)
COMPONENTS = (
    Component("FREQ", "dimension", codelist="CL_FREQ"),
    Component("INDICATOR", "dimension", codelist="CL_INDICATOR"),
    Component("AREA", "dimension", codelist="CL_AREA"),
    Component("TIME_PERIOD", "time", text_type="ObservationalTimePeriod"),
    Component("UNIT_MEASURE", "attribute", codelist="CL_UNIT_MEASURE", attachment="series",
              mandatory=True),
    Component("UNIT_MULT", "attribute", codelist="CL_UNIT_MULT", attachment="series"),
    Component("OBS_STATUS", "attribute", codelist="CL_OBS_STATUS", attachment="observation"),
    Component("OBS_VALUE", "measure", text_type="Double"),
)


def indicator_codes(indicators: Iterable[IndicatorInfo]) -> tuple[Code, ...]:
    return tuple(
        Code(sdmx_id(i.code), i.name_en or i.name_zh, i.name_zh or i.name_en,
             description_en=_unit_note(i.unit, i.description_en),
             description_zh=_unit_note(i.unit, i.description_zh))
        for i in sorted(indicators, key=lambda i: i.code)
    )


def _unit_note(unit: str, text: str) -> str:
    return f"{text} [{unit}]".strip() if unit else text


def area_codes(areas: Iterable[AreaInfo]) -> tuple[Code, ...]:
    ordered = sorted(areas, key=lambda a: (len(a.code), a.code))
    return tuple(Code(a.code, a.name_en or a.name_zh, a.name_zh or a.name_en, a.parent_code)
                 for a in ordered)


def build_structures(
    indicators: Iterable[IndicatorInfo], areas: Iterable[AreaInfo], agency: str,
    version: str = VERSION,
) -> StructureSet:
    """Every structure of the ``CGI`` dataflow for these indicators and areas."""
    indicators = list(indicators)
    mult = tuple(Code(str(m), f"10^{m}", f"10^{m}") for m in MULTIPLIERS)
    codelists = (
        Codelist("CL_AREA", "Areas of the district", "区域", area_codes(areas)),
        Codelist("CL_FREQ", "Frequency", "频率", FREQ_CODES),
        Codelist("CL_INDICATOR", "City Growth Index indicators", "城市成长力指标",
                 indicator_codes(indicators)),
        Codelist("CL_OBS_STATUS", "Observation status", "观测值状态", OBS_STATUS_CODES),
        Codelist("CL_UNIT_MEASURE", "Unit of measure", "计量单位",
                 unit_codes({i.unit for i in indicators})),
        Codelist("CL_UNIT_MULT", "Unit multiplier", "单位倍数", mult),
    )
    return StructureSet(
        agency=agency,
        version=version,
        codelists=codelists,
        concept_schemes=(ConceptScheme(CONCEPTS_ID, "City Growth Index concepts",
                                       "城市成长力概念", CONCEPTS),),
        structures=(DataStructure(DSD_ID, "City Growth Index observations",
                                  "城市成长力观测数据结构", COMPONENTS),),
        dataflows=(Dataflow(FLOW_ID, "City Growth Index observations", "城市成长力观测数据",
                            DSD_ID,
                            "Observations of every indicator of the City Growth Index, by area "
                            "and period.",
                            "城市生长力指数各指标按区域和时期的观测值。"),),
        indicator_ids={sdmx_id(i.code): i.code for i in indicators},
    )
