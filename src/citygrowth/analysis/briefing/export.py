"""Export a briefing: PDF (reportlab, CJK TrueType font), DOCX (python-docx) and HTML, with
the charts drawn by matplotlib and a table of every figure and its source."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from citygrowth.analysis.briefing.charts import cjk_font_path, render_png
from citygrowth.analysis.briefing.model import Briefing
from citygrowth.analysis.briefing.numbers import format_figure
from citygrowth.i18n import N_, bilingual, translate

T_TITLE = N_("Monthly briefing")
T_SOURCES = N_("Figures and their sources")
T_FIGURE = N_("Figure")
T_VALUE = N_("Value")
T_SOURCE = N_("Source")
T_NOTES = N_("Method notes")
FONT_NAME = "CityGrowthCJK"


def source_text(fig: Any) -> str:
    s = fig.source
    if s.kind == "computed":
        return ", ".join(f"{k}={v}" for k, v in s.detail.items())
    parts = [s.kind, s.indicator, s.area_code, s.period]
    if s.vintage:
        parts.append(f"vintage {s.vintage}")
    return " · ".join(p for p in parts if p)


def title(b: Briefing, locale: str) -> str:
    area = bilingual(b.area_name_zh, b.area_name_en, locale)
    return f"{area} · {translate(T_TITLE, locale)} · {b.month}"


def _register_font() -> str:
    from reportlab.pdfbase import pdfmetrics  # lazy: heavy library
    from reportlab.pdfbase.ttfonts import TTFont  # lazy: heavy library

    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        path = cjk_font_path()
        kwargs = {"subfontIndex": 0} if path.suffix.lower() == ".ttc" else {}
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), **kwargs))
    return FONT_NAME


def to_pdf(b: Briefing, locale: str) -> bytes:
    from reportlab.lib import colors  # lazy: heavy library
    from reportlab.lib.pagesizes import A4  # lazy: heavy library
    from reportlab.lib.styles import ParagraphStyle  # lazy: heavy library
    from reportlab.lib.units import cm  # lazy: heavy library
    from reportlab.platypus import (  # lazy: heavy library
        Image,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font = _register_font()
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    h1 = ParagraphStyle("h1", parent=body, fontSize=17, leading=24, spaceAfter=8)
    h2 = ParagraphStyle("h2", parent=body, fontSize=13, leading=20, spaceBefore=8)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=11)
    story: list[Any] = [Paragraph(escape(title(b, locale)), h1)]
    for section, items in b.section_texts(locale):
        story.append(Paragraph(escape(section), h2))
        for text, keys in items:
            refs = "".join(f"<super>[{list(b.figures).index(k) + 1}]</super>" for k in keys)
            story.append(Paragraph(escape(text) + refs, body))
    for png in render_png(b.charts, locale).values():
        story += [Spacer(1, 6), Image(io.BytesIO(png), width=16 * cm, height=7 * cm)]
    if b.notes:
        story.append(Paragraph(escape(translate(T_NOTES, locale)), h2))
        story += [Paragraph(escape(translate(n, locale)), small) for n in b.notes]
    story.append(Paragraph(escape(translate(T_SOURCES, locale)), h2))
    rows = [[Paragraph(escape(translate(h, locale)), small) for h in (T_FIGURE, T_VALUE,
                                                                      T_SOURCE)]]
    for i, (key, fig) in enumerate(b.figures.items(), 1):
        rows.append([Paragraph(f"[{i}] {escape(key)}", small),
                     Paragraph(escape(format_figure(fig, locale)), small),
                     Paragraph(escape(source_text(fig)), small)])
    table = Table(rows, colWidths=[5 * cm, 3.5 * cm, 8.5 * cm], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(table)
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=title(b, locale), leftMargin=2 * cm,
                      rightMargin=2 * cm, topMargin=1.8 * cm, bottomMargin=1.8 * cm).build(story)
    return buf.getvalue()


def _east_asian(style: Any) -> None:
    from docx.oxml.ns import qn  # lazy: heavy library

    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), "WenQuanYi Micro Hei")


def to_docx(b: Briefing, locale: str) -> bytes:
    from docx import Document  # lazy: heavy library
    from docx.shared import Cm  # lazy: heavy library

    doc = Document()
    for name in ("Normal", "Heading 1", "Heading 2", "Title"):
        _east_asian(doc.styles[name])
    doc.add_heading(title(b, locale), level=1)
    for section, items in b.section_texts(locale):
        doc.add_heading(section, level=2)
        for text, keys in items:
            p = doc.add_paragraph(text)
            refs = "".join(f"[{list(b.figures).index(k) + 1}]" for k in keys)
            if refs:
                p.add_run(refs).font.superscript = True
    for png in render_png(b.charts, locale).values():
        doc.add_picture(io.BytesIO(png), width=Cm(16))
    if b.notes:
        doc.add_heading(translate(T_NOTES, locale), level=2)
        for n in b.notes:
            doc.add_paragraph(translate(n, locale))
    doc.add_heading(translate(T_SOURCES, locale), level=2)
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, head in zip(table.rows[0].cells, (T_FIGURE, T_VALUE, T_SOURCE), strict=True):
        cell.text = translate(head, locale)
    for i, (key, fig) in enumerate(b.figures.items(), 1):
        cells = table.add_row().cells
        cells[0].text = f"[{i}] {key}"
        cells[1].text = format_figure(fig, locale)
        cells[2].text = source_text(fig)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
