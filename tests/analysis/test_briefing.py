"""A briefing made from known numbers: the periods it uses, every figure equal to what it
cites, its words in both languages, its sources, its charts; PDF pages as PNG images."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from citygrowth.analysis.briefing.charts import CHART_ORDER, render_png
from citygrowth.analysis.briefing.export import to_docx, to_pdf
from citygrowth.analysis.briefing.model import Briefing
from citygrowth.analysis.briefing.sections import compose
from citygrowth.analysis.briefing.sources import briefing_dict, coverage, source_list
from tests.analysis import briefing_data as bd
from tests.conftest import needs


@pytest.fixture(scope="module")
def briefing() -> Briefing:
    return compose(bd.inputs())


def _lookup(fig, inp) -> float:  # type: ignore[no-untyped-def]
    s = fig.source
    frame = {"observation": inp.observations, "annual": inp.annual}.get(s.kind)
    if frame is not None:
        rows = frame[(frame.indicator == s.indicator) & (frame.area_code == s.area_code)
                     & (frame.period == s.period)]
        assert str(rows["vintage"].iloc[0]) == s.vintage
        return float(rows["value"].iloc[0])
    rows = inp.index[(inp.index.code == s.indicator) & (inp.index.unit == s.area_code)
                     & (inp.index.period == s.period)]
    return float(rows["value"].iloc[0])


def test_every_figure_equals_the_number_it_cites(briefing: Briefing) -> None:
    inp = bd.inputs()
    checked = 0
    for fig in briefing.figures.values():
        if fig.source.kind in ("observation", "index", "annual"):
            assert fig.value == _lookup(fig, inp), fig.key
            checked += 1
        else:
            assert fig.source.detail  # a computation names its inputs
    assert checked >= 12
    assert all(k in briefing.figures for s in briefing.sentences for k in s.figures)


def test_the_latest_complete_year_is_used_throughout(briefing: Briefing) -> None:
    """2026 has index results but is not over by 1 December: headline, pillars, drivers and
    areas all compare 2025 with 2024; in December's briefing 2026 is complete."""
    assert briefing.index_period == "2025"
    assert briefing.figures["index_now"].value == 50 + 1.5 * 6
    years = {f.source.period for f in briefing.figures.values()
             if f.source.kind in ("index", "annual")}
    assert years == {"2024", "2025"}
    assert briefing.charts["trend"]["periods"][-1] == "2025"
    assert [s["period"] for s in briefing.charts["radar"]["series"]] == ["2024", "2025"]
    assert briefing.charts["ranking"]["period"] == "2025"
    december = compose(bd.inputs("2026-12"))
    assert december.index_period == "2026"


def test_sentences_and_coverage_in_both_languages(briefing: Briefing) -> None:
    def text(loc: str) -> str:
        return " ".join(s["text"] for sec in briefing.section_list(loc)
                        for s in sec["sentences"])

    en, zh = text("en"), text("zh_CN")
    assert "The City Growth Index of Shibei District rose to 59.0 in 2025" in en
    assert "市北区城市生长力指数2025年升至59.0，较2024年的57.5上升1.5分" in zh
    assert "Street 1 rose the most" in en and "Street 2 fell the most" in en
    # drivers: the two years' values, retail up (pushes), PM2.5 up (a cost: pulls)
    assert "Retail sales went from 790亿元 in 2024 to 900亿元 in 2025, pushing the index up" \
        in en.replace("hundred million yuan", "亿元").replace(" 亿元", "亿元")
    assert "PM2.5浓度由2024年的32μg/m³变为2025年的38μg/m³，拉低了指数" in zh
    assert "Add 4,000 parking spaces" in en and "Off track" in en and "12%" in en
    assert "Transport Bureau" in en and "42% done against 92% planned" in en
    assert "Family-doctor" not in en  # on track: not at risk
    assert "Cases closed on time: 91.2% in Nov 2026" in en or "in Nov 2026" in en
    assert "Volunteers has no data after 2024" in en
    assert "2025年" in coverage(briefing, "zh_CN") and "2026年11月" in coverage(briefing,
                                                                              "zh_CN")
    assert "the index of 2025, compared with 2024" in coverage(briefing, "en")
    assert any("normalised changes" in n for n in briefing_dict(briefing, "en")["notes"])


def test_key_figures_come_first_with_their_periods(briefing: Briefing) -> None:
    d = briefing_dict(briefing, "zh_CN")
    names = [k["name"] for k in d["key_figures"]]
    assert names[:2] == ["城市生长力指数", "地区生产总值"]
    cgi, gdp = d["key_figures"][:2]
    assert cgi["period_text"] == "2025年" and cgi["change_text"] == "比2024年+1.5分"
    assert gdp["period_text"] == "2026年前三季度" and gdp["change_text"] == "比上年同期+5.5%"


def test_sources_are_a_readable_numbered_list(briefing: Briefing) -> None:
    zh = source_list(briefing, "zh_CN")
    assert [s["n"] for s in zh] == list(range(1, len(zh) + 1))
    text = "\n".join(s["text"] for s in zh)
    # one entry per thing cited, with its department and load time in the district's zone
    assert text.count("社会消费品零售总额") == 1
    assert "社会消费品零售总额，区商务局，2024年—2025年，数据入库于2026-11-03 16:00" in text
    assert "城市生长力指数及各分项" in zh[0]["text"] and "CGI 2026.1" in zh[0]["text"]
    assert "目标任务进度报告" in text and "截至2026年11月30日" in text
    assert not re.search(r"_now|_prev|driver_|index_delta|\[\d+\]", text)


def test_charts_are_drawn_for_every_part() -> None:
    b = compose(bd.inputs())
    assert set(b.charts) == set(CHART_ORDER)
    images = render_png(b.charts, "zh_CN", "城市生长力指数")
    assert list(images) == list(CHART_ORDER)
    assert all(png.startswith(b"\x89PNG") and len(png) > 10_000 for png in images.values())
    cases = b.charts["cases"]
    assert cases["periods"][-1] == "2026-11" and len(cases["periods"]) == 12
    assert cases["series"][0]["target"] == 95.0
    assert b.charts["targets"]["actual"] == [42.0] and b.charts["targets"]["planned"] == [92.0]


def test_pdf_and_docx_read_like_a_briefing(tmp_path: Path, briefing: Briefing) -> None:
    needs("pdftoppm", shutil.which("pdftoppm") is not None, "install poppler-utils")
    out = tmp_path / "briefing-images"
    out.mkdir()
    for loc in ("zh_CN", "en"):
        images = render_png(briefing.charts, loc, "CGI")
        pdf = to_pdf(briefing, loc, images)
        assert pdf.startswith(b"%PDF")
        (out / f"briefing-{loc}.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(out / f"briefing-{loc}.pdf"),
                        str(out / f"briefing-{loc}")], check=True, timeout=120)
        docx = to_docx(briefing, loc, images)
        with zipfile.ZipFile(io.BytesIO(docx)) as z:
            media = [n for n in z.namelist() if n.startswith("word/media/")]
            body = z.read("word/document.xml").decode()
        assert len(media) == len(CHART_ORDER)
        assert "driver_" not in body and "[1]" not in body
    pngs = sorted(out.glob("*.png"))
    print(f"\nbriefing PDF pages as PNG images: {out}")
    assert len(pngs) >= 4 and all(p.stat().st_size > 5000 for p in pngs)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out / "briefing-zh_CN.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
        for words in ("市北区 · 月度简报 · 2026年11月", "主要指标", "2026年前三季度", "数据来源",
                      "1. 城市生长力指数及各分项"):
            assert words in text, words
        assert re.search(r"第\s?1\s?页", text)
        assert not re.search(r"_now|_prev|driver_|\[\d+\]", text)


def test_a_briefing_without_index_results_says_so() -> None:
    inp = bd.inputs()
    inp.index = pd.DataFrame(columns=["unit", "period", "code", "value", "rank"])
    b = compose(inp)
    en = " ".join(s["text"] for sec in b.section_list("en") for s in sec["sentences"])
    assert "No City Growth Index result is available for Shibei District up to Nov 2026" in en
    assert "trend" not in b.charts and b.key_figures[0].code == "ECO_GDP"
    assert "Each figure is for the latest period" in coverage(b, "en")
