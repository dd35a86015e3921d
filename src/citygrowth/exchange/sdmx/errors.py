"""SDMX errors: the ``<mes:Error>`` message of SDMX-ML 2.1 with the standard's codes.

The SDMX REST endpoints answer errors in SDMX's own format (not citygrowth's JSON shape), as
the standard requires: code 100 no results (HTTP 404), 110 unauthorised (401), 140 syntax
error (400), 150 semantic error (403), 406 format not acceptable (406).
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from citygrowth.exchange.sdmx.xmlbase import XML_LANG, root, sub, tostring
from citygrowth.i18n import N_, translate

HTTP_STATUS = {100: 404, 110: 401, 130: 413, 140: 400, 150: 403, 406: 406, 510: 413}
ERROR_MEDIA_TYPE = "application/xml"


class SdmxError(Exception):
    """An error answered as an SDMX error message. ``message`` is an English msgid."""

    def __init__(self, code: int, message: str, status: int | None = None,
                 **params: Any) -> None:
        self.code = code
        self._status = status
        self.message = message
        self.params: dict[str, Any] = params
        super().__init__(message.format(**params) if params else message)

    @property
    def status(self) -> int:
        return self._status or HTTP_STATUS.get(self.code, 400)

    def text(self, locale: str) -> str:
        return translate(self.message, locale).format(**self.params)


def no_results(message: str = N_("No results found."), **params: Any) -> SdmxError:
    return SdmxError(100, message, None, **params)


def syntax_error(message: str, **params: Any) -> SdmxError:
    return SdmxError(140, message, None, **params)


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (echoed user input may have them)."""
    return _NOT_XML.sub("\ufffd", text)


def write_error(error: SdmxError) -> bytes:
    """``<mes:Error><mes:ErrorMessage code=…>`` with the text in English and Chinese."""
    doc = root("Error", "com")
    msg = sub(doc, "mes", "ErrorMessage", code=str(error.code))
    for lang, loc in (("en", "en"), ("zh", "zh_CN")):
        el = sub(msg, "com", "Text")
        el.set(XML_LANG, lang)
        el.text = xml_safe(error.text(loc))
    return tostring(doc)


def parse_error(content: bytes) -> tuple[str, str] | None:
    """``(code, text)`` of an SDMX error message, or None when ``content`` is not one."""
    try:
        doc = etree.fromstring(content)
    except etree.XMLSyntaxError:
        return None
    if etree.QName(doc).localname != "Error":
        return None
    msg = next(iter(doc), None)
    if msg is None:
        return None
    texts = [t.text or "" for t in msg if etree.QName(t).localname == "Text"]
    return msg.get("code", ""), (texts[0] if texts else "")
