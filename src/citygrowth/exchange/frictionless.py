"""Frictionless Data Package export: ``datapackage.json`` plus CSV resources, zipped.

Three tabular resources with Table Schemas: ``indicators`` (the catalog), ``areas`` (the
area tree, parent links as a self-reference) and ``observations`` (the current view; primary
key indicator + area_code + period, foreign keys to the other two). Written with the standard
library only; ``frictionless validate`` accepts the result.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from citygrowth import __version__
from citygrowth.exchange.sdmx.data import format_value
from citygrowth.exchange.sources import Publication

PERIOD_PATTERN = r"\d{4}(-Q[1-4]|-\d{2}|-W\d{2}|-\d{2}-\d{2})?"

INDICATOR_FIELDS: list[dict[str, Any]] = [
    {"name": "code", "type": "string", "title": "Indicator code",
     "constraints": {"required": True, "unique": True}},
    {"name": "name_zh", "type": "string", "title": "Name (Chinese)"},
    {"name": "name_en", "type": "string", "title": "Name (English)"},
    {"name": "unit", "type": "string", "title": "Unit"},
    {"name": "frequency", "type": "string", "title": "Frequency",
     "constraints": {"enum": ["A", "Q", "M", "W", "D"]}},
    {"name": "department", "type": "string", "title": "Source department"},
    {"name": "pillar", "type": "string", "title": "Pillar"},
    {"name": "finest_level", "type": "string", "title": "Finest area level"},
]
AREA_FIELDS: list[dict[str, Any]] = [
    {"name": "code", "type": "string", "title": "Area code",
     "constraints": {"required": True, "unique": True, "pattern": r"\d{6}(\d{3}){0,3}"}},
    {"name": "level", "type": "string", "title": "Level",
     "constraints": {"enum": ["district", "street", "community", "grid"]}},
    {"name": "parent_code", "type": "string", "title": "Parent area code"},
    {"name": "name_zh", "type": "string", "title": "Name (Chinese)"},
    {"name": "name_en", "type": "string", "title": "Name (English)"},
]
OBSERVATION_FIELDS: list[dict[str, Any]] = [
    {"name": "indicator", "type": "string", "title": "Indicator code",
     "constraints": {"required": True}},
    {"name": "area_code", "type": "string", "title": "Area code",
     "constraints": {"required": True}},
    {"name": "period", "type": "string", "title": "Period (2024, 2024-Q3, 2024-09)",
     "constraints": {"required": True, "pattern": PERIOD_PATTERN}},
    {"name": "freq", "type": "string", "title": "Frequency",
     "constraints": {"enum": ["A", "Q", "M", "W", "D"]}},
    {"name": "value", "type": "number", "title": "Value"},
    {"name": "unit", "type": "string", "title": "Unit"},
    {"name": "vintage", "type": "datetime", "title": "Vintage (when the value was loaded)",
     "format": "%Y-%m-%dT%H:%M:%SZ"},
]


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue().encode("utf-8")


def _vintage(value: Any) -> str:
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        return ""
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return str(ts.strftime("%Y-%m-%dT%H:%M:%SZ"))


def indicators_csv(pub: Publication, codes: set[str] | None) -> bytes:
    return _csv([f["name"] for f in INDICATOR_FIELDS], (
        (i.code, i.name_zh, i.name_en, i.unit, i.frequency, i.department, i.pillar,
         i.finest_level)
        for i in sorted(pub.indicators, key=lambda i: i.code) if codes is None or i.code in codes
    ))


def areas_csv(pub: Publication) -> bytes:
    return _csv([f["name"] for f in AREA_FIELDS], (
        (a.code, a.level, a.parent_code, a.name_zh, a.name_en) for a in pub.areas))


def observations_csv(frame: pd.DataFrame) -> bytes:
    cols = ["indicator", "area_code", "period", "freq", "value", "unit", "vintage"]
    if frame.empty:
        return _csv(cols, [])
    recs = frame.sort_values(["indicator", "area_code", "period"]).to_dict("records")
    return _csv(cols, (
        (r["indicator"], r["area_code"], r["period"], r["freq"],
         "" if pd.isna(r["value"]) else format_value(r["value"]), r["unit"] or "",
         _vintage(r["vintage"]))
        for r in recs))


def _resource(name: str, title: str, data: bytes, fields: list[dict[str, Any]],
              primary: list[str], foreign: list[dict[str, Any]]) -> dict[str, Any]:
    schema: dict[str, Any] = {"fields": fields, "primaryKey": primary, "missingValues": [""]}
    if foreign:
        schema["foreignKeys"] = foreign
    return {
        "name": name, "title": title, "path": f"data/{name}.csv", "profile":
        "tabular-data-resource", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
        "bytes": len(data), "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
        "schema": schema,
    }


def build_package(pub: Publication, frame: pd.DataFrame, indicators: set[str] | None = None,
                  created: dt.datetime | None = None) -> tuple[dict[str, Any], dict[str, bytes]]:
    """``(descriptor, {path: bytes})`` of the data package."""
    known = {i.code for i in pub.indicators}
    wanted = known if indicators is None else known & indicators
    frame = frame[frame["indicator"].isin(wanted)] if not frame.empty else frame
    files = {
        "data/indicators.csv": indicators_csv(pub, wanted),
        "data/areas.csv": areas_csv(pub),
        "data/observations.csv": observations_csv(frame),
    }
    when = (created or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    descriptor = {
        "profile": "tabular-data-package",
        "name": f"citygrowth-{pub.framework_code.lower()}-{pub.agency.lower().replace('_', '-')}",
        "title": f"{pub.name_zh} {pub.name_en}",
        "description": f"Observations of the {pub.name_en} ({pub.framework_code} "
                       f"{pub.framework_version}) by area and period, published by "
                       f"{pub.agency}. Current values (latest vintage).",
        "version": pub.framework_version or "1.0",
        "created": when,
        "keywords": ["City Growth Index", "城市成长力", pub.agency],
        "sources": [{"title": f"citygrowth {__version__}"}],
        "resources": [
            _resource("indicators", "Indicators", files["data/indicators.csv"],
                      INDICATOR_FIELDS, ["code"], []),
            _resource("areas", "Areas", files["data/areas.csv"], AREA_FIELDS, ["code"], [
                {"fields": ["parent_code"], "reference": {"resource": "", "fields": ["code"]}},
            ]),
            _resource("observations", "Observations", files["data/observations.csv"],
                      OBSERVATION_FIELDS, ["indicator", "area_code", "period"], [
                          {"fields": ["indicator"],
                           "reference": {"resource": "indicators", "fields": ["code"]}},
                          {"fields": ["area_code"],
                           "reference": {"resource": "areas", "fields": ["code"]}},
                      ]),
        ],
    }
    return descriptor, files


def zip_package(descriptor: dict[str, Any], files: dict[str, bytes]) -> bytes:
    """The zipped package: ``datapackage.json`` at the root, CSVs under ``data/``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("datapackage.json", json.dumps(descriptor, ensure_ascii=False, indent=2))
        for path, data in files.items():
            zf.writestr(path, data)
    return buf.getvalue()
