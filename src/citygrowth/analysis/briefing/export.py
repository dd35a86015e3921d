"""Export a briefing as a secretary would hand it out: PDF (reportlab, CJK TrueType font) and
DOCX (python-docx).

Order: the title and the periods it covers, the key figures as a table, then each section's
sentences with its charts (index trend and the five pillars after the headline, the areas'
ranking after the areas, the targets at risk and case handling after theirs), method notes,
and the sources as a numbered list. The charts are the PNG images of ``charts.render_png``,
drawn once and shared by both formats and the briefing's page.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from citygrowth.analysis.briefing.charts import cjk_font_path, render_png
from citygrowth.analysis.briefing.model import Briefing
from citygrowth.analysis.briefing.sources import coverage, source_list
from citygrowth.i18n import N_, bilingual, translate
from citygrowth.periods import Period, period_text

T_TITLE = N_("Monthly briefing")
T_KEY_FIGURES = N_("Key figures")
T_SOURCES = N_("Sources")
T_NOTES = N_("Method notes")
T_INDICATOR = N_("Indicator")
T_VALUE = N_("Value")
T_PERIOD = N_("Statistical period")
T_CHANGE = N_("Change")
T_SOURCE = N_("Source")
T_PAGE = N_("Page {n}")
FONT_NAME = "CityGrowthCJK"


def title(b: Briefing, locale: str) -> str:
    area = bilingual(b.area_name_zh, b.area_name_en, locale)
    month = period_text(Period.parse(b.month), locale)
    return f"{area} · {translate(T_TITLE, locale)} · {month}"


def key_figure_rows(key_figures: list[dict[str, Any]], locale: str) -> list[list[str]]:
    """The key figures table (from ``KeyFigure.to_dict``): header, then one row each."""
    head = [translate(h, locale) for h in (T_INDICATOR, T_VALUE, T_PERIOD, T_CHANGE,
                                           T_SOURCE)]
    rows = [head]
    for d in key_figures:
        value = f"{d['display']} {d['unit']}".strip() if locale == "en" else \
            f"{d['display']}{d['unit']}"
        change = "; ".join(x for x in (d["change_text"], d["extra"]) if x)
        rows.append([d["name"], value, d["period_text"], change, d["source"]])
    return rows


def index_name(b: Briefing, locale: str) -> str:
    now = b.figures.get("index_now")
    meta = b.catalog.get(now.source.indicator, {}) if now else {}
    return bilingual(meta.get("name_zh"), meta.get("name_en"), locale) or \
        bilingual("城市生长力指数", "City Growth Index", locale)


def images_for(b: Briefing, locale: str) -> dict[str, bytes]:
    return render_png(b.charts, locale, index_name(b, locale))


def _register_font() -> str:
    from reportlab.pdfbase import pdfmetrics  # lazy: only when a PDF is made
    from reportlab.pdfbase.ttfonts import TTFont  # lazy: as above

    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        path = cjk_font_path()
        kwargs = {"subfontIndex": 0} if path.suffix.lower() == ".ttc" else {}
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), **kwargs))
    return FONT_NAME


def _pdf_image(png: bytes, width: float) -> Any:
    from reportlab.lib.utils import ImageReader  # lazy: only when a PDF is made
    from reportlab.platypus import Image  # lazy: as above

    w, h = ImageReader(io.BytesIO(png)).getSize()
    return Image(io.BytesIO(png), width=width, height=width * h / w)


def _pdf_charts(names: tuple[str, ...], images: dict[str, bytes], full: float) -> list[Any]:
    from reportlab.platypus import Spacer, Table  # lazy: only when a PDF is made

    if names == ("trend", "radar") and all(n in images for n in names):
        row = [_pdf_image(images["trend"], full * 0.64), _pdf_image(images["radar"], full * 0.34)]
        return [Spacer(1, 4), Table([row], colWidths=[full * 0.65, full * 0.35])]
    return [x for n in names if n in images for x in (Spacer(1, 4), _pdf_image(images[n], full))]


def to_pdf(b: Briefing, locale: str, images: dict[str, bytes] | None = None) -> bytes:
    from reportlab.lib import colors  # lazy: only when a PDF is made
    from reportlab.lib.pagesizes import A4  # lazy: as above
    from reportlab.lib.styles import ParagraphStyle  # lazy: as above
    from reportlab.lib.units import cm  # lazy: as above
    from reportlab.platypus import (  # lazy  # lazy: heavy library
        Paragraph,
        SimpleDocTemplate,
        Table,
        TableStyle,
    )

    images = images_for(b, locale) if images is None else images
    font = _register_font()
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK",
                          spaceAfter=3)
    h1 = ParagraphStyle("h1", parent=body, fontSize=18, leading=26, spaceAfter=6,
                        textColor=colors.HexColor("#0b3a75"))
    h2 = ParagraphStyle("h2", parent=body, fontSize=13, leading=20, spaceBefore=10,
                        textColor=colors.HexColor("#0b3a75"))
    small = ParagraphStyle("small", parent=body, fontSize=8.5, leading=12)
    note = ParagraphStyle("note", parent=small, backColor=colors.HexColor("#eef3f8"),
                          borderPadding=5, spaceAfter=8)
    full = 17 * cm
    story: list[Any] = [Paragraph(escape(title(b, locale)), h1),
                        Paragraph(escape(coverage(b, locale)), note)]
    rows = key_figure_rows([k.to_dict(locale) for k in b.key_figures], locale)
    if len(rows) > 1:
        story.append(Paragraph(escape(translate(T_KEY_FIGURES, locale)), h2))
        table = Table([[Paragraph(escape(c), small) for c in r] for r in rows],
                      colWidths=[3.6 * cm, 2.8 * cm, 3.2 * cm, 3.9 * cm, 3.5 * cm],
                      repeatRows=1)
        table.setStyle(TableStyle([
            ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#c8d3de")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde8f3")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        story.append(table)
    for sec in b.section_list(locale):
        story.append(Paragraph(escape(sec["title"]), h2))
        story += [Paragraph(escape(s["text"]), body) for s in sec["sentences"]]
        story += _pdf_charts(tuple(sec["charts"]), images, full)
    if b.notes:
        story.append(Paragraph(escape(translate(T_NOTES, locale)), h2))
        story += [Paragraph(escape(translate(n, locale)), small) for n in b.notes]
    story.append(Paragraph(escape(translate(T_SOURCES, locale)), h2))
    story += [Paragraph(escape(f"{s['n']}. {s['text']}"), small)
              for s in source_list(b, locale)]

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#6b7b8c"))
        canvas.drawString(2 * cm, 1.1 * cm, title(b, locale))
        canvas.drawRightString(A4[0] - 2 * cm, 1.1 * cm,
                               translate(T_PAGE, locale).format(n=doc.page))
        canvas.restoreState()

    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title=title(b, locale), leftMargin=2 * cm,
                      rightMargin=2 * cm, topMargin=1.8 * cm, bottomMargin=1.8 * cm
                      ).build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def _east_asian(style: Any) -> None:
    from docx.oxml.ns import qn  # lazy: only when a DOCX is made

    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), "WenQuanYi Micro Hei")


def to_docx(b: Briefing, locale: str, images: dict[str, bytes] | None = None) -> bytes:
    from docx import Document  # lazy: only when a DOCX is made
    from docx.shared import Cm, Pt  # lazy: as above

    images = images_for(b, locale) if images is None else images
    doc = Document()
    for name in ("Normal", "Heading 1", "Heading 2", "Title", "List Number"):
        _east_asian(doc.styles[name])
    doc.add_heading(title(b, locale), level=1)
    doc.add_paragraph(coverage(b, locale)).runs[0].italic = True
    rows = key_figure_rows([k.to_dict(locale) for k in b.key_figures], locale)
    if len(rows) > 1:
        doc.add_heading(translate(T_KEY_FIGURES, locale), level=2)
        table = doc.add_table(rows=0, cols=len(rows[0]))
        table.style = "Light Grid Accent 1"
        for r in rows:
            for cell, text in zip(table.add_row().cells, r, strict=True):
                cell.text = text
                for run in cell.paragraphs[0].runs:
                    run.font.size = Pt(9)
    for sec in b.section_list(locale):
        doc.add_heading(sec["title"], level=2)
        for said in sec["sentences"]:
            doc.add_paragraph(said["text"])
        for c in sec["charts"]:
            if c in images:
                doc.add_picture(io.BytesIO(images[c]), width=Cm(10 if c == "radar" else 16))
    if b.notes:
        doc.add_heading(translate(T_NOTES, locale), level=2)
        for n in b.notes:
            doc.add_paragraph(translate(n, locale))
    doc.add_heading(translate(T_SOURCES, locale), level=2)
    for s in source_list(b, locale):
        doc.add_paragraph(s["text"], style="List Number")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
