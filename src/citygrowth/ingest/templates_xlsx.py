"""Excel templates per dataset: a ``data`` sheet to fill in, with the allowed codes beside it.

Header cells carry comments (in Chinese and English) naming what each column accepts; the
sheets ``indicators``, ``areas`` and ``periods`` list the allowed indicator codes (with unit,
frequency and finest level), area codes (down to the finest level any of the dataset's
indicators allows) and period formats with their range; the indicator column has a drop-down.
"""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.areas.models import LEVELS, Area
from citygrowth.catalog.datasets import COLUMNS, OPTIONAL_COLUMNS, Dataset
from citygrowth.catalog.framework import Framework
from citygrowth.ingest.validate import MIN_YEAR
from citygrowth.settings import Settings
from citygrowth.web.render import append_safe

FORMATS = {"A": "2024", "Q": "2024-Q3", "M": "2024-09"}


def dataset_template(session: Session, settings: Settings, fw: Framework,
                     dataset: Dataset) -> bytes:
    inds = dataset.indicator_objects(fw)
    finest = max((LEVELS.index(i.finest_level) for i in inds), default=0)
    areas = session.execute(
        select(Area.code, Area.name_zh, Area.name_en, Area.level)
        .where(Area.code.startswith(settings.district_code)).order_by(Area.code)).all()
    areas = [a for a in areas if a.level in LEVELS[: finest + 1]]
    freqs = sorted({i.frequency for i in inds})
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "data"
    header = [*COLUMNS, *OPTIONAL_COLUMNS]
    ws.append(header)
    notes = {
        "indicator": "指标代码 / indicator code: " + ", ".join(i.code for i in inds[:12])
        + (" … (see sheet 'indicators')" if len(inds) > 12 else ""),
        "area_code": f"区域代码 / area code: {len(areas)} codes, see sheet 'areas' "
        f"(finest level: {LEVELS[finest]})",
        "period": "时期 / period: " + ", ".join(f"{f}={FORMATS[f]}" for f in freqs)
        + f"; {MIN_YEAR}–{dt.date.today().year}",
        "value": "数值 / number, in the indicator's unit unless 'unit' says otherwise",
        "unit": "单位 / unit (optional): e.g. 万元 is converted to 亿元; see sheet 'indicators'",
    }
    for col, name in enumerate(header, start=1):
        ws.cell(row=1, column=col).comment = Comment(notes[name], "citygrowth")
        ws.column_dimensions[chr(64 + col)].width = 22
    ws_i = wb.create_sheet("indicators")
    ws_i.append(["code", "name_zh", "name_en", "unit", "frequency", "finest_level",
                 "period_format"])
    for i in inds:
        append_safe(ws_i, [i.code, i.name_zh, i.name_en, i.unit, i.frequency, i.finest_level,
                           FORMATS[i.frequency]])
    ws_a = wb.create_sheet("areas")
    ws_a.append(["code", "name_zh", "name_en", "level"])
    for a in areas:
        append_safe(ws_a, [a.code, a.name_zh, a.name_en, a.level])
    ws_p = wb.create_sheet("periods")
    ws_p.append(["frequency", "format", "from", "to"])
    for f in freqs:
        ws_p.append([f, FORMATS[f], str(MIN_YEAR), "today"])
    if inds:
        dv = DataValidation(type="list", formula1=f"=indicators!$A$2:$A${len(inds) + 1}",
                            allow_blank=False)
        ws.add_data_validation(dv)
        dv.add("A2:A5000")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
