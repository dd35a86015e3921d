"""Shared pieces of SDMX-ML 2.1 messages: namespaces, the header, names, references."""

from __future__ import annotations

import datetime as dt
import uuid

from lxml import etree

V21 = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1"
NS = {
    "mes": f"{V21}/message",
    "str": f"{V21}/structure",
    "com": f"{V21}/common",
    "gen": f"{V21}/data/generic",
    "ss": f"{V21}/data/structurespecific",
    "footer": f"{V21}/message/footer",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def q(prefix: str, name: str) -> str:
    """The Clark name (``{namespace}name``) of ``prefix:name``."""
    return f"{{{NS[prefix]}}}{name}"


def sub(parent: etree._Element, prefix: str, name: str, **attrib: str) -> etree._Element:
    return etree.SubElement(parent, q(prefix, name), {k: v for k, v in attrib.items() if v})


def names(parent: etree._Element, en: str, zh: str, tag: str = "Name") -> None:
    """``<com:Name xml:lang="en">`` and ``<com:Name xml:lang="zh">`` (when given)."""
    for lang, text in (("en", en), ("zh", zh)):
        if text:
            el = sub(parent, "com", tag)
            el.set(XML_LANG, lang)
            el.text = text


def ref(parent: etree._Element, **attrib: str) -> etree._Element:
    """An unqualified ``<Ref …/>`` as SDMX-ML 2.1 writes references."""
    return etree.SubElement(parent, "Ref", {k: v for k, v in attrib.items() if v})


def header(root: etree._Element, sender: str, prepared: dt.datetime | None = None
           ) -> etree._Element:
    head = sub(root, "mes", "Header")
    sub(head, "mes", "ID").text = "IREF" + uuid.uuid4().hex[:16].upper()
    sub(head, "mes", "Test").text = "false"
    when = prepared or dt.datetime.now(dt.UTC)
    sub(head, "mes", "Prepared").text = when.replace(microsecond=0).isoformat()
    sub(head, "mes", "Sender", id=sender)
    return head


def tostring(root: etree._Element) -> bytes:
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return out


def root(tag: str, *prefixes: str, extra: dict[str, str] | None = None) -> etree._Element:
    nsmap: dict[str | None, str] = {p: NS[p] for p in ("mes", *prefixes)}
    nsmap.update(extra or {})
    return etree.Element(q("mes", tag), nsmap=nsmap)
