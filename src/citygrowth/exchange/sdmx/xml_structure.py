"""SDMX-ML 2.1 structure messages (``application/vnd.sdmx.structure+xml;version=2.1``)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from citygrowth.exchange.sdmx.model import (
    Codelist,
    Component,
    ConceptScheme,
    Dataflow,
    DataStructure,
    StructureSet,
)
from citygrowth.exchange.sdmx.structure import CONCEPTS_ID
from citygrowth.exchange.sdmx.xmlbase import header, names, ref, root, sub, tostring


@dataclass(frozen=True)
class Selection:
    """Which artefacts a structure message holds."""

    dataflows: tuple[Dataflow, ...] = ()
    structures: tuple[DataStructure, ...] = ()
    codelists: tuple[Codelist, ...] = ()
    concept_schemes: tuple[ConceptScheme, ...] = ()
    stubs: bool = False

    def __bool__(self) -> bool:
        return bool(self.dataflows or self.structures or self.codelists or self.concept_schemes)


Named = Codelist | ConceptScheme | DataStructure | Dataflow


def _maintainable(parent: etree._Element, tag: str, cls: str, obj: Named, ss: StructureSet,
                  stub: bool) -> etree._Element:
    oid = obj.id
    el = sub(parent, "str", tag, id=oid, agencyID=ss.agency, version=ss.version,
             urn=ss.urn(cls, oid), isFinal="true")
    if stub:
        el.set("isExternalReference", "true")
    names(el, obj.name_en, obj.name_zh)
    return el


def _codelist(parent: etree._Element, cl: Codelist, ss: StructureSet, stub: bool) -> None:
    el = _maintainable(parent, "Codelist", "codelist.Codelist", cl, ss, stub)
    if stub:
        return
    base = ss.urn("codelist.Codelist", cl.id)
    for code in cl.codes:
        c = sub(el, "str", "Code", id=code.id, urn=f"{base}.{code.id}")
        names(c, code.name_en, code.name_zh)
        names(c, code.description_en, code.description_zh, tag="Description")
        if code.parent:
            ref(sub(c, "str", "Parent"), id=code.parent)


def _concepts(parent: etree._Element, cs: ConceptScheme, ss: StructureSet, stub: bool) -> None:
    el = _maintainable(parent, "ConceptScheme", "conceptscheme.ConceptScheme", cs, ss, stub)
    if stub:
        return
    base = ss.urn("conceptscheme.ConceptScheme", cs.id)
    for concept in cs.concepts:
        c = sub(el, "str", "Concept", id=concept.id, urn=f"{base}.{concept.id}")
        names(c, concept.name_en, concept.name_zh)


def _concept_ref(parent: etree._Element, comp: Component, ss: StructureSet) -> None:
    ref(sub(parent, "str", "ConceptIdentity"), id=comp.id, maintainableParentID=CONCEPTS_ID,
        maintainableParentVersion=ss.version, agencyID=ss.agency, package="conceptscheme",
        **{"class": "Concept"})


def _representation(parent: etree._Element, comp: Component, ss: StructureSet) -> None:
    rep = sub(parent, "str", "LocalRepresentation")
    if comp.codelist:
        ref(sub(rep, "str", "Enumeration"), id=comp.codelist, version=ss.version,
            agencyID=ss.agency, package="codelist", **{"class": "Codelist"})
    else:
        sub(rep, "str", "TextFormat", textType=comp.text_type or "String")


def _component(parent: etree._Element, tag: str, comp: Component, ss: StructureSet,
               **attrib: str) -> etree._Element:
    el = sub(parent, "str", tag, id=comp.id, **attrib)
    _concept_ref(el, comp, ss)
    _representation(el, comp, ss)
    return el


def _dsd(parent: etree._Element, dsd: DataStructure, ss: StructureSet, stub: bool) -> None:
    el = _maintainable(parent, "DataStructure", "datastructure.DataStructure", dsd, ss, stub)
    if stub:
        return
    comps = sub(el, "str", "DataStructureComponents")
    dims = sub(comps, "str", "DimensionList", id="DimensionDescriptor")
    for pos, d in enumerate(dsd.dimensions, start=1):
        tag = "TimeDimension" if d.kind == "time" else "Dimension"
        _component(dims, tag, d, ss, position=str(pos))
    attrs = sub(comps, "str", "AttributeList", id="AttributeDescriptor")
    for a in dsd.attributes:
        el_a = _component(attrs, "Attribute", a, ss,
                          assignmentStatus="Mandatory" if a.mandatory else "Conditional")
        rel = sub(el_a, "str", "AttributeRelationship")
        if a.attachment == "series":
            for d in dsd.key_dimensions:
                ref(sub(rel, "str", "Dimension"), id=d.id)
        else:
            ref(sub(rel, "str", "PrimaryMeasure"), id="OBS_VALUE")
    measures = sub(comps, "str", "MeasureList", id="MeasureDescriptor")
    for m in (c for c in dsd.components if c.kind == "measure"):
        _component(measures, "PrimaryMeasure", m, ss)


def _dataflow(parent: etree._Element, flow: Dataflow, ss: StructureSet, stub: bool) -> None:
    el = _maintainable(parent, "Dataflow", "datastructure.Dataflow", flow, ss, stub)
    if stub:
        return
    names(el, flow.description_en, flow.description_zh, tag="Description")
    ref(sub(el, "str", "Structure"), id=flow.structure, version=ss.version, agencyID=ss.agency,
        package="datastructure", **{"class": "DataStructure"})


def write_structure(ss: StructureSet, sel: Selection) -> bytes:
    """A ``mes:Structure`` message holding the selected artefacts (in the schema's order)."""
    doc = root("Structure", "str", "com")
    header(doc, ss.agency)
    structures = sub(doc, "mes", "Structures")
    if sel.dataflows:
        holder = sub(structures, "str", "Dataflows")
        for flow in sel.dataflows:
            _dataflow(holder, flow, ss, sel.stubs)
    if sel.codelists:
        holder = sub(structures, "str", "Codelists")
        for cl in sel.codelists:
            _codelist(holder, cl, ss, sel.stubs)
    if sel.concept_schemes:
        holder = sub(structures, "str", "Concepts")
        for cs in sel.concept_schemes:
            _concepts(holder, cs, ss, sel.stubs)
    if sel.structures:
        holder = sub(structures, "str", "DataStructures")
        for dsd in sel.structures:
            _dsd(holder, dsd, ss, sel.stubs)
    return tostring(doc)


def select(ss: StructureSet, resource: str, ids: set[str] | None, references: str,
           stubs: bool = False) -> Selection:
    """The artefacts of one resource type (``ids`` None means all) plus their references."""
    flows = tuple(f for f in ss.dataflows if ids is None or f.id in ids)
    dsds = tuple(s for s in ss.structures if ids is None or s.id in ids)
    cls = tuple(c for c in ss.codelists if ids is None or c.id in ids)
    css = tuple(c for c in ss.concept_schemes if ids is None or c.id in ids)
    children = references in ("children", "descendants", "all")
    parents = references in ("parents", "parentsandsiblings", "all")
    if resource == "dataflow":
        dsd_ids = {f.structure for f in flows}
        sel_dsds = tuple(s for s in ss.structures if s.id in dsd_ids) if children else ()
        deep = references in ("descendants", "all")
        return Selection(flows, sel_dsds, ss.codelists if deep and sel_dsds else (),
                         ss.concept_schemes if deep and sel_dsds else (), stubs)
    if resource == "datastructure":
        used = bool(dsds) and children
        return Selection(ss.dataflows if parents and dsds else (), dsds,
                         ss.codelists if used else (), ss.concept_schemes if used else (), stubs)
    if resource == "codelist":
        return Selection((), ss.structures if parents and cls else (), cls, (), stubs)
    if resource == "conceptscheme":
        return Selection((), ss.structures if parents and css else (), (), css, stubs)
    return Selection()
