"""A briefing as data: figures with their sources, and sentences that cite figures.

Every number a briefing prints is a :class:`Figure` that remembers where it came from
(:class:`Source`: the observation store's indicator, area, period and vintage; the index
results' node, unit and period; or a computation and its inputs). A :class:`Sentence` is an
English msgid with parameters, some of which are figure keys, so a reader (and a test) can
trace every number back to the query that produced it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from citygrowth.i18n import N_, bilingual, translate
from citygrowth.periods import Period, period_text

if TYPE_CHECKING:
    from citygrowth.analysis.keyfigures import KeyFigure

SECTIONS = {
    "headline": N_("Headline"),
    "drivers": N_("What drove it"),
    "areas": N_("Areas that rose or fell"),
    "targets": N_("Targets at risk"),
    "cases": N_("Case handling"),
    "gaps": N_("Data gaps"),
}
# which charts follow which section
SECTION_CHARTS = {"headline": ("trend", "radar"), "areas": ("ranking",),
                  "targets": ("targets",), "cases": ("cases",)}


@dataclass(frozen=True)
class Source:
    """Where a figure comes from. ``kind``: ``observation`` (store), ``index`` (index results)
    or ``computed`` (from other figures/inputs, named in ``detail``)."""

    kind: str
    indicator: str = ""
    area_code: str = ""
    period: str = ""
    vintage: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def query(self) -> dict[str, Any]:
        """The query that returns this figure (for the store or the index results)."""
        if self.kind == "observation":
            return {"store": "observations", "indicators": [self.indicator],
                    "area_codes": [self.area_code], "start": self.period, "end": self.period,
                    "as_of": self.vintage or None}
        if self.kind == "index":
            return {"store": "index_results", "code": self.indicator, "unit": self.area_code,
                    "period": self.period, "vintage": self.vintage or "latest"}
        return {"computed": dict(self.detail)}


@dataclass(frozen=True)
class Figure:
    key: str
    value: float
    unit: str
    source: Source
    decimals: int = 1

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["query"] = self.source.query()
        return out


@dataclass(frozen=True)
class Sentence:
    """``message`` is an English msgid; ``params`` values that name a figure key are listed in
    ``figures`` and formatted from the figure when rendered."""

    section: str
    message: str
    params: dict[str, Any]
    figures: tuple[str, ...] = ()
    translate_params: tuple[str, ...] = ()

    def render(self, figures: dict[str, Figure], locale: str) -> str:
        from citygrowth.analysis.briefing.numbers import format_figure  # lazy: a cycle

        values: dict[str, Any] = {}
        for k, v in self.params.items():
            if isinstance(v, dict) and "en" in v:
                values[k] = v["en"] if locale == "en" else v.get("zh_CN", v["en"])
            elif k in self.translate_params:
                values[k] = translate(str(v), locale)
            elif isinstance(v, str) and v in figures and v in self.figures:
                values[k] = format_figure(figures[v], locale)
            else:
                values[k] = v
        return translate(self.message, locale).format(**values)


def period_words(period: str) -> dict[str, str]:
    """A period as a sentence parameter: its words in both languages (2025年 / 2025)."""
    p = Period.parse(period)
    return {"zh_CN": period_text(p, "zh_CN"), "en": period_text(p, "en")}


@dataclass
class Briefing:
    area_code: str
    area_name_zh: str
    area_name_en: str
    month: str
    vintage: str
    figures: dict[str, Figure] = field(default_factory=dict)
    sentences: list[Sentence] = field(default_factory=list)
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    key_figures: list[KeyFigure] = field(default_factory=list)
    # names of what the figures cite: code -> name_zh, name_en, dept_zh, dept_en
    catalog: dict[str, dict[str, str]] = field(default_factory=dict)
    index_period: str = ""  # the index's latest complete period (the headline's)
    framework: str = ""  # the index's framework and version, e.g. "CGI 2026.1"
    timezone: str = "UTC"  # the district's zone: vintages are shown in it

    def add(self, fig: Figure) -> str:
        self.figures[fig.key] = fig
        return fig.key

    def say(self, section: str, message: str, figures: tuple[str, ...] = (),
            translate_params: tuple[str, ...] = (), **params: Any) -> None:
        self.sentences.append(Sentence(section, message, params, figures, translate_params))

    def section_list(self, locale: str) -> list[dict[str, Any]]:
        """Sections with sentences or charts, in order: ``{"code", "title", "sentences":
        [{"text", "figures"}], "charts": [chart names]}``."""
        out = []
        for code, title in SECTIONS.items():
            said = [{"text": s.render(self.figures, locale), "figures": list(s.figures)}
                    for s in self.sentences if s.section == code]
            charts = [c for c in SECTION_CHARTS.get(code, ()) if c in self.charts]
            if said or charts:
                out.append({"code": code, "title": translate(title, locale), "sentences": said,
                            "charts": charts})
        return out

    def to_dict(self, locale: str) -> dict[str, Any]:
        """Sentences, figures and key figures in ``locale`` (``sources.briefing_dict`` adds
        the coverage and the numbered sources)."""
        return {
            "area_code": self.area_code,
            "area_name": bilingual(self.area_name_zh, self.area_name_en, locale),
            "month": self.month, "vintage": self.vintage, "locale": locale,
            "index_period": self.index_period, "framework": self.framework,
            "key_figures": [k.to_dict(locale) for k in self.key_figures],
            "sections": self.section_list(locale),
            "figures": {k: f.to_dict() for k, f in self.figures.items()},
            "notes": [translate(n, locale) for n in self.notes],
        }
