"""Hostile workbooks for the upload-limit tests: a zip bomb and an archive whose header lies."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"
HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
        b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>indicator</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>area_code</t></is></c>'
        b'<c r="C1" t="inlineStr"><is><t>period</t></is></c>'
        b'<c r="D1" t="inlineStr"><is><t>value</t></is></c></row>')
TAIL = b"</sheetData></worksheet>"
# one row, repeated: the same bytes compress to almost nothing
ROW = (b'<row><c t="inlineStr"><is><t>ECO_GDP</t></is></c><c t="inlineStr"><is><t>370203001'
       b'</t></is></c><c t="inlineStr"><is><t>2024-Q1</t></is></c><c><v>1</v></c></row>')


def _parts() -> dict[str, bytes]:
    """Every part of a small valid workbook except its first worksheet."""
    wb = Workbook()
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as z:
        return {n: z.read(n) for n in z.namelist() if n != SHEET}


def sheet_bomb(path: Path, sheet_mb: int = 286) -> Path:
    """An .xlsx of about 1.1 MB whose worksheet unpacks to ``sheet_mb`` MiB (300 MB) of XML."""
    block = ROW * (2**20 // len(ROW))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in _parts().items():
            z.writestr(name, data)
        with z.open(SHEET, "w", force_zip64=True) as fh:
            fh.write(HEAD)
            for _ in range(sheet_mb):
                fh.write(block)
            fh.write(TAIL)
    return path


def lying_workbook(path: Path, rows: int = 50_000) -> Path:
    """A workbook whose central directory says its worksheet unpacks to 1 KB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in _parts().items():
            z.writestr(name, data)
        z.writestr(SHEET, HEAD + ROW * rows + TAIL)
    data = bytearray(path.read_bytes())
    # patch the uncompressed size of the worksheet's central-directory entry
    name = SHEET.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + name_len] == name:
            struct.pack_into("<I", data, at + 24, 1024)
            break
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    return path
