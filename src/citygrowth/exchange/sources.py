"""What the exchange publishes, read from the catalog and the area tree.

The exchange formats (SDMX, CKAN, DCAT, Frictionless) are written from the small records
here, so they stay independent of how the catalog and the areas are stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.catalog.framework import Framework, Indicator
from citygrowth.exchange.sdmx.model import StructureSet
from citygrowth.exchange.sdmx.structure import AreaInfo, IndicatorInfo, build_structures
from citygrowth.runtime import Runtime
from citygrowth.settings import Settings


@dataclass(frozen=True)
class Publication:
    """Everything the exchange describes: agency, framework, indicators, departments, areas."""

    agency: str
    framework_code: str
    framework_version: str
    name_zh: str
    name_en: str
    indicators: tuple[IndicatorInfo, ...]
    departments: dict[str, tuple[str, str]]  # code -> (name_zh, name_en)
    areas: tuple[AreaInfo, ...]
    created: str = ""  # when the framework file was last changed (ISO, UTC)

    def indicator(self, code: str) -> IndicatorInfo | None:
        return next((i for i in self.indicators if i.code == code), None)

    def structures(self) -> StructureSet:
        return build_structures(self.indicators, self.areas, self.agency)


def agency_id(settings: Settings) -> str:
    """The SDMX maintenance agency and data provider id: ``CN_<district code>``."""
    return f"CN_{settings.district_code}"


def _pillar(fw: Framework, ind: Indicator) -> tuple[str, str, str]:
    code = ind.parent
    while code is not None:
        node = fw.node(code)
        if node.kind == "pillar":
            return node.code, node.name_zh, node.name_en
        code = node.parent
    return "", "", ""


def indicator_infos(fw: Framework) -> tuple[IndicatorInfo, ...]:
    out = []
    for ind in fw.indicators:
        pcode, pzh, pen = _pillar(fw, ind)
        out.append(IndicatorInfo(
            code=ind.code, name_zh=ind.name_zh, name_en=ind.name_en, unit=ind.unit,
            frequency=ind.frequency, department=ind.department, pillar=pcode,
            pillar_name_zh=pzh, pillar_name_en=pen, description_zh=ind.description,
            description_en=ind.description, finest_level=ind.finest_level,
            source=ind.citation or ind.source,
        ))
    return tuple(out)


def area_infos(session: Session) -> tuple[AreaInfo, ...]:
    rows = session.execute(
        select(Area.code, Area.name_zh, Area.name_en, Area.level, Area.parent_code)
        .order_by(Area.code)
    ).all()
    return tuple(AreaInfo(r.code, r.name_zh, r.name_en or "", r.level, r.parent_code)
                 for r in rows)


def _file_time(path: str) -> str:
    try:
        stamp = Path(path).stat().st_mtime
    except OSError:
        stamp = 0.0
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def publication(session: Session, runtime: Runtime, framework: str = "default",
                with_areas: bool = True) -> Publication:
    fw = runtime.frameworks.load(framework)
    depts = {d.code: (d.name_zh, d.name_en) for d in fw.departments}
    return Publication(
        agency=agency_id(runtime.settings), framework_code=fw.code, framework_version=fw.version,
        name_zh=fw.name_zh, name_en=fw.name_en, indicators=indicator_infos(fw),
        departments=depts, areas=area_infos(session) if with_areas else (),
        created=_file_time(fw.path),
    )
