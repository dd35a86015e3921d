"""Read SDMX data messages from a remote service into flat observation records.

Understands SDMX-ML 2.1 generic and structure-specific data (series or flat, with group and
data-set attributes) and SDMX-CSV 1.0/2.0. Each record maps component ids (dimensions,
attributes, ``OBS_VALUE``) to text, in the order the observations appear in the message.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from lxml import etree

from citygrowth.errors import ValidationFailed
from citygrowth.exchange.sdmx.xmlbase import NS

Record = dict[str, str]
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)


def _local(el: etree._Element) -> str:
    return str(etree.QName(el).localname)


def _gen_values(el: etree._Element | None) -> dict[str, str]:
    if el is None:
        return {}
    return {v.get("id", ""): v.get("value", "") for v in el if _local(v) == "Value"}


def _child(el: etree._Element, name: str) -> etree._Element | None:
    return next((c for c in el if _local(c) == name), None)


def _dim_at_obs(doc: etree._Element) -> str:
    for st in doc.iter(f"{{{NS['mes']}}}Structure"):
        return st.get("dimensionAtObservation") or "TIME_PERIOD"
    return "TIME_PERIOD"


def _group_attrs(groups: list[tuple[dict[str, str], dict[str, str]]], key: dict[str, str]
                 ) -> dict[str, str]:
    out: dict[str, str] = {}
    for gkey, attrs in groups:
        if all(key.get(k) == v for k, v in gkey.items()):
            out.update(attrs)
    return out


def _generic_obs(obs: etree._Element, base: dict[str, str], dao: str) -> Record:
    rec = dict(base)
    rec.update(_gen_values(_child(obs, "ObsKey")))
    dim = _child(obs, "ObsDimension")
    if dim is not None:
        rec[dao] = dim.get("value", "")
    val = _child(obs, "ObsValue")
    rec["OBS_VALUE"] = "" if val is None else val.get("value", "")
    rec.update(_gen_values(_child(obs, "Attributes")))
    return rec


def _generic(doc: etree._Element) -> Iterator[Record]:
    dao = _dim_at_obs(doc)
    for ds in (c for c in doc if _local(c) == "DataSet"):
        ds_attrs = _gen_values(_child(ds, "Attributes"))
        groups = [(_gen_values(_child(g, "GroupKey")), _gen_values(_child(g, "Attributes")))
                  for g in ds if _local(g) == "Group"]
        for el in ds:
            name = _local(el)
            if name == "Series":
                key = _gen_values(_child(el, "SeriesKey"))
                base = {**ds_attrs, **_group_attrs(groups, key), **key,
                        **_gen_values(_child(el, "Attributes"))}
                for obs in (o for o in el if _local(o) == "Obs"):
                    yield _generic_obs(obs, base, dao)
            elif name == "Obs":
                yield _generic_obs(el, ds_attrs, dao)


def _plain_attrs(el: etree._Element) -> dict[str, str]:
    return {k: v for k, v in el.attrib.items() if not k.startswith("{")}


def _structure_specific(doc: etree._Element) -> Iterator[Record]:
    for ds in (c for c in doc if _local(c) == "DataSet"):
        ds_attrs = _plain_attrs(ds)
        groups: list[tuple[dict[str, str], dict[str, str]]] = [
            (_plain_attrs(g), {}) for g in ds if _local(g) == "Group"]
        for el in ds:
            name = _local(el)
            if name == "Series":
                key = _plain_attrs(el)
                base = {**ds_attrs, **_group_attrs(groups, key), **key}
                for obs in (o for o in el if _local(o) == "Obs"):
                    yield {**base, **_plain_attrs(obs)}
            elif name == "Obs":
                yield {**ds_attrs, **_plain_attrs(el)}


def _csv(content: bytes) -> Iterator[Record]:
    text = content.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    fixed = {"STRUCTURE", "STRUCTURE_ID", "STRUCTURE_NAME", "ACTION", "DATAFLOW",
             "SERIES_KEY", "OBS_KEY"}
    names = [h.split(":", 1)[0].strip() for h in header]
    for row in reader:
        if not any(row):
            continue
        yield {n: v for n, v in zip(names, row, strict=False) if n not in fixed}


def read_records(content: bytes, content_type: str = "") -> list[Record]:
    """Every observation of an SDMX data message as a flat record."""
    head = content.lstrip()[:200]
    if "csv" in content_type or head.startswith((b"STRUCTURE", b"DATAFLOW", b"\xef\xbb\xbf")):
        return list(_csv(content))
    try:
        doc = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValidationFailed("The remote answer is not SDMX data: {detail}",
                               code="sdmx_not_data", detail=str(exc)) from None
    kind = _local(doc)
    if kind == "GenericData" or kind == "GenericTimeSeriesData":
        return list(_generic(doc))
    if kind in ("StructureSpecificData", "StructureSpecificTimeSeriesData"):
        return list(_structure_specific(doc))
    raise ValidationFailed("The remote answer is not SDMX data: {detail}",
                           code="sdmx_not_data", detail=kind)
