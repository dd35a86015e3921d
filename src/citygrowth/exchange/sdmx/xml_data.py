"""SDMX-ML 2.1 data messages: generic (``genericdata``) and structure-specific."""

from __future__ import annotations

import pandas as pd
from lxml import etree

from citygrowth.exchange.sdmx.data import Series, iter_series, structure_ref_id
from citygrowth.exchange.sdmx.model import StructureSet
from citygrowth.exchange.sdmx.structure import DSD_ID
from citygrowth.exchange.sdmx.xmlbase import header, q, ref, root, sub, tostring


def _structure_header(head: etree._Element, ss: StructureSet, dim_at_obs: str,
                      namespace: str | None = None) -> str:
    sid = structure_ref_id(ss, DSD_ID)
    st = sub(head, "mes", "Structure", structureID=sid, namespace=namespace or "",
             dimensionAtObservation=dim_at_obs)
    ref(sub(st, "com", "Structure"), agencyID=ss.agency, id=DSD_ID, version=ss.version)
    return sid


def _values(parent: etree._Element, tag: str, values: dict[str, str]) -> None:
    if values:
        holder = sub(parent, "gen", tag)
        for k, v in values.items():
            sub(holder, "gen", "Value", id=k, value=v)


def _generic_obs(parent: etree._Element, obs_dims: dict[str, str], value: str,
                 attrs: dict[str, str], flat: bool) -> None:
    el = sub(parent, "gen", "Obs")
    if flat:
        _values(el, "ObsKey", obs_dims)
    else:
        sub(el, "gen", "ObsDimension", value=next(iter(obs_dims.values())))
    sub(el, "gen", "ObsValue", value=value)
    _values(el, "Attributes", attrs)


def _generic_series(ds: etree._Element, s: Series, flat: bool) -> None:
    if flat:
        for o in s.observations:
            _generic_obs(ds, o.dimensions, o.value, o.attributes, True)
        return
    el = sub(ds, "gen", "Series")
    _values(el, "SeriesKey", s.key)
    _values(el, "Attributes", s.attributes)
    for o in s.observations:
        _generic_obs(el, o.dimensions, o.value, o.attributes, False)


def write_generic(ss: StructureSet, rows: pd.DataFrame, dim_at_obs: str = "TIME_PERIOD",
                  detail: str = "full") -> bytes:
    """A ``mes:GenericData`` message."""
    doc = root("GenericData", "gen", "com")
    head = header(doc, ss.agency)
    sid = _structure_header(head, ss, dim_at_obs)
    ds = sub(doc, "mes", "DataSet", structureRef=sid)
    flat = dim_at_obs == "AllDimensions"
    for s in iter_series(rows, dim_at_obs, detail):
        _generic_series(ds, s, flat)
    return tostring(doc)


def ss_namespace(ss: StructureSet, dim_at_obs: str) -> str:
    return (f"{ss.urn('datastructure.DataStructure', DSD_ID)}:ObsLevelDim:{dim_at_obs}")


def write_structure_specific(ss: StructureSet, rows: pd.DataFrame,
                             dim_at_obs: str = "TIME_PERIOD", detail: str = "full") -> bytes:
    """A ``mes:StructureSpecificData`` message (DSD-specific attributes, namespace ``ns1``)."""
    nsuri = ss_namespace(ss, dim_at_obs)
    doc = root("StructureSpecificData", "ss", "com", "xsi", extra={"ns1": nsuri})
    head = header(doc, ss.agency)
    sid = _structure_header(head, ss, dim_at_obs, namespace=nsuri)
    ds = etree.SubElement(doc, q("mes", "DataSet"), {
        q("ss", "structureRef"): sid, q("ss", "dataScope"): "DataStructure",
        q("xsi", "type"): "ns1:DataSetType",
    })
    flat = dim_at_obs == "AllDimensions"
    for s in iter_series(rows, dim_at_obs, detail):
        parent = ds
        if not flat:
            parent = etree.SubElement(ds, "Series", {**s.key, **s.attributes})
        for o in s.observations:
            etree.SubElement(parent, "Obs", {**o.dimensions, "OBS_VALUE": o.value,
                                             **o.attributes})
    return tostring(doc)

