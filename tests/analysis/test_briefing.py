"""A briefing made from known numbers: every figure equals what it cites; PDF pages as PNG."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd

from citygrowth.analysis.briefing.export import to_docx, to_pdf
from citygrowth.analysis.briefing.sections import compose
from tests.analysis import briefing_data as bd
from tests.conftest import needs


def _lookup(fig, obs: pd.DataFrame, index: pd.DataFrame) -> float:  # type: ignore[no-untyped-def]
    s = fig.source
    if s.kind == "observation":
        rows = obs[(obs.indicator == s.indicator) & (obs.area_code == s.area_code)
                   & (obs.period == s.period)]
        assert str(rows["vintage"].iloc[0]) == s.vintage
        return float(rows["value"].iloc[0])
    rows = index[(index.code == s.indicator) & (index.unit == s.area_code)
                 & (index.period == s.period)]
    return float(rows["value"].iloc[0])


def test_every_figure_equals_the_number_it_cites() -> None:
    inp = bd.inputs()
    b = compose(inp)
    checked = 0
    for fig in b.figures.values():
        if fig.source.kind in ("observation", "index"):
            assert fig.value == _lookup(fig, inp.observations, inp.index), fig.key
            checked += 1
        else:
            assert fig.source.detail  # a computation names its inputs
    assert checked >= 12
    assert b.figures["index_now"].value == 60 + 0.4 * 11
    assert abs(b.figures["index_delta"].value - 0.4) < 1e-9
    # each sentence cites figures that exist
    assert all(k in b.figures for s in b.sentences for k in s.figures)


def test_sentences_in_both_languages() -> None:
    b = compose(bd.inputs())
    en = " ".join(t for _s, items in b.section_texts("en") for t, _k in items)
    zh = " ".join(t for _s, items in b.section_texts("zh_CN") for t, _k in items)
    assert "The City Growth Index of Shibei District rose to 64.4 in 2026-10" in en
    assert "市北区城市生长力指数" in zh and "64.4" in zh
    assert "Street 1 rose the most" in en and "Street 2 fell the most" in en
    assert "Add 4,000 parking spaces" in en and "42%" in en
    assert "Family-doctor" not in en  # on track: not at risk
    assert "Cases closed on time" in en
    assert "Volunteers has no data after 2024" in en
    notes = b.to_dict("en")["notes"]
    assert any("normalised changes" in n for n in notes)


def test_pdf_and_docx_render_and_pdf_pages_become_images(tmp_path: Path) -> None:
    needs("pdftoppm", shutil.which("pdftoppm") is not None, "install poppler-utils")
    b = compose(bd.inputs())
    out = tmp_path / "briefing-images"
    out.mkdir()
    for loc in ("zh_CN", "en"):
        pdf = to_pdf(b, loc)
        assert pdf.startswith(b"%PDF")
        (out / f"briefing-{loc}.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(out / f"briefing-{loc}.pdf"),
                        str(out / f"briefing-{loc}")], check=True, timeout=120)
        docx = to_docx(b, loc)
        assert docx[:2] == b"PK"
    pngs = sorted(out.glob("*.png"))
    print(f"\nbriefing PDF pages as PNG images: {out}")
    assert len(pngs) >= 2 and all(p.stat().st_size > 5000 for p in pngs)
    text = subprocess.run(["pdftotext", str(out / "briefing-zh_CN.pdf"), "-"],
                          capture_output=True, text=True, check=False).stdout
    if shutil.which("pdftotext"):
        assert "市北区" in text and "64.4" in text
