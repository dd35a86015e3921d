"""GeoReport v2 bodies in JSON and XML, and the spec's error format.

XML follows the spec's element names (``services/service``, ``service_requests/request``,
``errors/error`` …); JSON is the same data as arrays/objects. Lists inside an item take the
singular element name given in ``CHILD``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from lxml import etree
from starlette.responses import Response

FORMATS = ("json", "xml")
CHILD = {"attributes": "attribute", "values": "value", "notes": "note", "photos": "photo",
         "endpoints": "endpoint", "formats": "format", "errors": "error"}


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str:
    """Element text; characters XML cannot carry (control characters) are dropped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _add(parent: etree._Element, name: str, value: Any) -> None:
    el = etree.SubElement(parent, _NOT_XML.sub("", name) or "item")
    if isinstance(value, Mapping):
        for k, v in value.items():
            _add(el, str(k), v)
    elif isinstance(value, (list, tuple)):
        child = CHILD.get(name, "item")
        for v in value:
            _add(el, child, v)
    else:
        el.text = _text(value)


def to_xml(root: str, item: str | None, data: Any) -> bytes:
    """``data`` is a list of dicts (``item`` elements under ``root``) or one dict (``root``)."""
    el = etree.Element(root)
    if item is None:
        for k, v in data.items():
            _add(el, k, v)
    else:
        for d in data:
            _add(el, item, d)
    return bytes(etree.tostring(el, xml_declaration=True, encoding="utf-8", pretty_print=True))


# Bare media types, as GeoReport clients and the SeeClickFix validator compare them: JSON is
# UTF-8 by definition (RFC 8259), and the XML declaration names its encoding. The header is set
# directly, since Starlette would append "; charset=utf-8" to a text/* media type.
MEDIA_TYPES = {"xml": "text/xml", "json": "application/json"}


def render(fmt: str, root: str, item: str | None, data: Any, status: int = 200) -> Response:
    body = to_xml(root, item, data) if fmt == "xml" else \
        json.dumps(data, ensure_ascii=False).encode()
    return Response(body, status_code=status, headers={"content-type": MEDIA_TYPES[fmt]})


def errors(fmt: str, status: int, items: Iterable[tuple[int | str, str]]) -> Response:
    """The spec's error body: a list of {code, description}."""
    data = [{"code": code, "description": desc} for code, desc in items]
    return render(fmt if fmt in FORMATS else "xml", "errors", "error", data, status)
