"""Datasets: what a department sends, one dataset per department of the framework.

A dataset's code is its department's code (``stats``, ``urban`` …); its schema is the long
table ``indicator, area_code, period, value[, unit]`` restricted to that department's
indicators.
"""

from __future__ import annotations

from dataclasses import dataclass

from citygrowth.catalog.framework import Framework, Indicator
from citygrowth.errors import NotFound

COLUMNS: tuple[str, ...] = ("indicator", "area_code", "period", "value")
OPTIONAL_COLUMNS: tuple[str, ...] = ("unit",)


@dataclass(frozen=True)
class Dataset:
    code: str
    department: str
    name_zh: str
    name_en: str
    indicators: tuple[str, ...]

    @property
    def department_code(self) -> str:
        return self.department

    def as_dict(self, fw: Framework) -> dict[str, object]:
        return {
            "code": self.code, "department": self.department, "name_zh": self.name_zh,
            "name_en": self.name_en, "columns": [*COLUMNS, *OPTIONAL_COLUMNS],
            "indicators": [
                {"code": i.code, "name_zh": i.name_zh, "name_en": i.name_en, "unit": i.unit,
                 "frequency": i.frequency, "finest_level": i.finest_level}
                for i in self.indicator_objects(fw)
            ],
        }

    def indicator_objects(self, fw: Framework) -> list[Indicator]:
        m = fw.indicator_map()
        return [m[c] for c in self.indicators if c in m]


def list_datasets(fw: Framework) -> list[Dataset]:
    """One dataset per department that owns indicators, in the framework's department order."""
    out: list[Dataset] = []
    order = [d.code for d in fw.departments]
    depts = sorted({i.department for i in fw.indicators},
                   key=lambda c: (order.index(c) if c in order else len(order), c))
    for code in depts:
        d = fw.department(code)
        out.append(Dataset(
            code=code, department=code,
            name_zh=f"{d.name_zh if d else code}数据", name_en=f"{d.name_en if d else code} data",
            indicators=tuple(i.code for i in fw.indicators if i.department == code),
        ))
    return out


def get_dataset(code: str, fw: Framework) -> Dataset:
    for ds in list_datasets(fw):
        if ds.code == code:
            return ds
    raise NotFound("No dataset '{code}'.", code=code)
