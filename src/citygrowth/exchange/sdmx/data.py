"""Observations as SDMX data: the SDMX-shaped table, series grouping and value formatting."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from citygrowth.exchange.sdmx.model import (
    PRIMARY_MEASURE,
    SERIES_DIMENSIONS,
    TIME_DIMENSION,
    StructureSet,
    sdmx_id,
)
from citygrowth.exchange.sdmx.units import unit_code

DIMENSIONS = (*SERIES_DIMENSIONS, TIME_DIMENSION)
SERIES_ATTRIBUTES = ("UNIT_MEASURE", "UNIT_MULT")
OBS_ATTRIBUTES = ("OBS_STATUS",)
COLUMNS = (*DIMENSIONS, PRIMARY_MEASURE, *SERIES_ATTRIBUTES, *OBS_ATTRIBUTES)
DETAILS = ("full", "dataonly", "serieskeysonly", "nodata")


def to_sdmx_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Store rows (indicator, area_code, period, freq, value, unit …) as SDMX columns."""
    if frame.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in COLUMNS})
    units = frame["unit"].fillna("").astype(str).map(unit_code)
    status = frame["status"].fillna("A") if "status" in frame.columns else "A"
    out = pd.DataFrame({
        "FREQ": frame["freq"].astype(str),
        "INDICATOR": frame["indicator"].astype(str).map(sdmx_id),
        "AREA": frame["area_code"].astype(str),
        TIME_DIMENSION: frame["period"].astype(str),
        PRIMARY_MEASURE: pd.to_numeric(frame["value"], errors="coerce").astype(float),
        "UNIT_MEASURE": units.map(lambda u: u[0]),
        "UNIT_MULT": units.map(lambda u: str(u[1])),
        "OBS_STATUS": status,
    })
    return out.sort_values(list(DIMENSIONS), kind="stable").reset_index(drop=True)


def format_value(value: float | None) -> str:
    """OBS_VALUE as text: ``NaN`` for missing, integers without ``.0``, else shortest repr."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NaN"
    v = float(value)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


@dataclass(frozen=True)
class Series:
    key: dict[str, str]
    attributes: dict[str, str]
    observations: list[Obs]


@dataclass(frozen=True)
class Obs:
    dimensions: dict[str, str]
    value: str
    attributes: dict[str, str]


def series_dimensions(dim_at_obs: str) -> tuple[str, ...]:
    if dim_at_obs == "AllDimensions":
        return ()
    return tuple(d for d in DIMENSIONS if d != dim_at_obs)


def iter_series(rows: pd.DataFrame, dim_at_obs: str, detail: str) -> Iterator[Series]:
    """Group SDMX rows into series whose observations vary along ``dim_at_obs``.

    Series-level attributes go on the series when the series key holds every series dimension
    (dimension at observation TIME_PERIOD), otherwise on each observation.
    """
    key_dims = series_dimensions(dim_at_obs)
    obs_dims = tuple(d for d in DIMENSIONS if d not in key_dims)
    series_attrs = SERIES_ATTRIBUTES if set(SERIES_DIMENSIONS) <= set(key_dims) else ()
    obs_attrs = tuple(a for a in (*SERIES_ATTRIBUTES, *OBS_ATTRIBUTES) if a not in series_attrs)
    with_attrs = detail in ("full", "nodata")
    with_obs = detail in ("full", "dataonly")
    records = rows.to_dict("records")
    groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
    for rec in records:
        groups.setdefault(tuple(str(rec[d]) for d in key_dims), []).append(rec)
    for key, recs in groups.items():
        first = recs[0]
        attrs = {a: str(first[a]) for a in series_attrs if with_attrs and _present(first[a])}
        observations = [
            Obs({d: str(r[d]) for d in obs_dims}, format_value(r[PRIMARY_MEASURE]),  # type: ignore[arg-type]
                {a: str(r[a]) for a in obs_attrs if with_attrs and detail == "full"
                 and _present(r[a])})
            for r in recs
        ] if with_obs else []
        yield Series(dict(zip(key_dims, key, strict=True)), attrs, observations)


def _present(value: object) -> bool:
    return value is not None and value == value and value != ""


def structure_ref_id(ss: StructureSet, dsd_id: str) -> str:
    return f"{ss.agency}_{dsd_id}_{ss.version.replace('.', '_')}"
