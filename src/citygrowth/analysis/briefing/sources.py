"""What a briefing says about itself: the periods it covers, and its sources as a numbered
list a reader can follow (indicator, department, periods, data version) — one entry per
thing cited, not one per number, and never an internal key."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from citygrowth.analysis.briefing.model import Briefing
from citygrowth.analysis.keyfigures import PROJECTS_CODE
from citygrowth.i18n import N_, bilingual, translate
from citygrowth.periods import Period, period_text

COVER = N_("This briefing covers {month}. Each figure is for the latest period that was "
           "complete by the end of {month}: the City Growth Index is computed by year, so it "
           "is the index of {year}, compared with {previous}; the key figures name their own "
           "periods (quarterly and monthly flows are summed over the year so far); case "
           "handling is for {month}.")
COVER_NO_INDEX = N_("This briefing covers {month}. Each figure is for the latest period that "
                    "was complete by the end of {month}; the key figures name their own "
                    "periods (quarterly and monthly flows are summed over the year so far).")
S_INDEX = N_("{index} and its pillars, computed by the index engine (framework {framework}) "
             "from the indicators below")
S_TARGETS = N_("Progress reports on the accountability targets")
S_PROJECTS = N_("Key project register (count and total investment)")
S_LOADED = N_("data loaded {when}")
S_AS_OF = N_("as of {date}")
S_YTD = N_("{period} (year to date)")


def local_time(vintage: str, tz: str) -> str:
    """A vintage (load time, UTC) in the district's zone, to the minute; other text as is."""
    try:
        ts = pd.Timestamp(vintage)
    except (ValueError, TypeError):
        return vintage
    if ts.tzinfo is None:
        return vintage
    return str(ts.tz_convert(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M"))


def _span(periods: set[str], locale: str) -> str:
    ordered = sorted({Period.parse(p) for p in periods if p}, key=lambda p: (p.start, p.freq))
    if not ordered:
        return ""
    first, last = period_text(ordered[0], locale), period_text(ordered[-1], locale)
    return first if first == last else f"{first}—{last}" if locale != "en" else \
        f"{first} to {last}"


def coverage(b: Briefing, locale: str) -> str:
    month = period_text(Period.parse(b.month), locale)
    if not b.index_period:
        return translate(COVER_NO_INDEX, locale).format(month=month)
    year = Period.parse(b.index_period)
    return translate(COVER, locale).format(month=month, year=period_text(year, locale),
                                           previous=period_text(year.prev(), locale))


def _entries(b: Briefing) -> dict[str, dict[str, Any]]:
    """Cited things in order of first appearance: the index, the key figures, then the
    indicators and targets of the text."""
    out: dict[str, dict[str, Any]] = {}

    def entry(key: str, **kw: Any) -> dict[str, Any]:
        return out.setdefault(key, {"periods": set(), "ytd": set(), "vintages": set(),
                                    "departments": set(), **kw})

    for f in b.figures.values():
        if f.source.kind == "index":
            e = entry("index", kind="index")
            e["periods"].add(f.source.period)
            e["vintages"].add(f.source.vintage)
    index_codes = {f.source.indicator for f in b.figures.values() if f.source.kind == "index"}
    for k in b.key_figures:
        if k.code == PROJECTS_CODE:
            entry("projects", kind="projects", as_of=k.as_of)
        elif k.code not in index_codes:
            e = entry(k.code, kind="indicator", code=k.code)
            (e["ytd"] if k.year_to_date else e["periods"]).add(k.period)
            e["vintages"].add(k.vintage)
    for f in b.figures.values():
        s = f.source
        if s.kind in ("observation", "annual") and s.indicator:
            e = entry(s.indicator, kind="indicator", code=s.indicator)
            e["periods"].add(s.period)
            e["vintages"].add(s.vintage)
        elif s.kind == "computed" and "target" in s.detail:
            entry("targets", kind="targets", as_of=str(Period.parse(b.month).end))
    return out


def _text(b: Briefing, e: dict[str, Any], locale: str) -> dict[str, str]:
    tz = b.timezone
    when = sorted(local_time(v, tz) for v in e["vintages"] if v and v != "latest")
    loaded = translate(S_LOADED, locale).format(when=when[-1]) if when else ""
    if e["kind"] == "index":
        now = b.figures.get("index_now")
        names = b.catalog.get(now.source.indicator if now else "", {})
        root = bilingual(names.get("name_zh"), names.get("name_en"), locale)
        return {"name": translate(S_INDEX, locale).format(index=root, framework=b.framework),
                "department": "", "periods": _span(e["periods"], locale), "version": loaded}
    if e["kind"] in ("projects", "targets"):
        date = period_text(Period.parse(e["as_of"]), locale)
        name = S_PROJECTS if e["kind"] == "projects" else S_TARGETS
        return {"name": translate(name, locale), "department": "",
                "periods": translate(S_AS_OF, locale).format(date=date), "version": ""}
    meta = b.catalog.get(e["code"], {})
    periods = [p for p in (_span(e["periods"], locale),) if p]
    periods += [translate(S_YTD, locale).format(period=period_text(
        Period.parse(p), locale, year_to_date=True)) for p in sorted(e["ytd"])]
    return {"name": bilingual(meta.get("name_zh"), meta.get("name_en"), locale) or e["code"],
            "department": bilingual(meta.get("dept_zh"), meta.get("dept_en"), locale),
            "periods": "; ".join(periods) if locale == "en" else "；".join(periods),
            "version": loaded}


def source_list(b: Briefing, locale: str) -> list[dict[str, Any]]:
    """The numbered sources: ``{"n", "name", "department", "periods", "version", "text"}``."""
    sep = "; " if locale == "en" else "，"
    out = []
    for i, e in enumerate(_entries(b).values(), 1):
        t = _text(b, e, locale)
        t["text"] = sep.join(x for x in (t["name"], t["department"], t["periods"],
                                         t["version"]) if x)
        out.append({"n": i, **t})
    return out


def briefing_dict(b: Briefing, locale: str) -> dict[str, Any]:
    """Everything a reader of the briefing sees, in ``locale``, with its numbers."""
    return {**b.to_dict(locale), "coverage": coverage(b, locale),
            "sources": source_list(b, locale), "charts": b.charts}
