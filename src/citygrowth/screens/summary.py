"""The big screen's numbers: one call assembles everything ``/screen`` draws.

Index and pillar scores come from the index engine's stored results (never recomputed here);
indicator values from the observation store; the live feed from the case store, limited to
the areas the viewer may see. The result carries both the raw numbers and the ECharts options
built from them, so the browser test can compare what is drawn with its JSON twin.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.targets import indicator_statuses, list_targets
from citygrowth.analysis.keyfigures import (
    case_figures,
    indicator_figures,
    local_today,
    projects_figure,
)
from citygrowth.areas.tree import AreaTree
from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import can, require, scope_prefixes
from citygrowth.catalog.framework import Framework, Indicator, Node
from citygrowth.errors import NotFound, ValidationFailed
from citygrowth.governance.lifecycle import REPORT_LABEL, TABLE
from citygrowth.governance.models import Case, CaseCategory, CaseEvent
from citygrowth.i18n import _, bilingual, get_locale
from citygrowth.index.service import read_results
from citygrowth.observatory.batches import signature
from citygrowth.observatory.store import ObservationStore
from citygrowth.periods import Period, is_complete, period_text
from citygrowth.runtime import Runtime
from citygrowth.screens import charts
from citygrowth.screens.explore import area_name
from citygrowth.settings import Settings

NEXT_LEVEL = {"district": "street", "street": "community", "community": "grid"}
RESULTS_CACHE_SIZE = 64
_results_cache: dict[tuple[str, ...], pd.DataFrame] = {}
_results_lock = threading.Lock()
FEED_LIMIT = 15


@dataclass
class ScreenSources:
    """What the screens read: the store, the framework, the area tree and the index results."""

    runtime: Runtime
    store: ObservationStore
    framework: Framework
    tree: AreaTree
    run: str | None = None  # the latest index run (id and vintage): results are cached on it

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def tz(self) -> ZoneInfo:
        return self.runtime.tz

    def today(self) -> dt.date:
        """Today in the district's zone: periods that were over before it are complete."""
        return local_today(self.tz)

    def results(self, level: str) -> pd.DataFrame:
        """:meth:`read`, cached per index run: a run's results never change once it is done
        (reading them parses the framework file, too slow for every dashboard call)."""
        if self.run is None:
            return self.read(level)
        key = (str(self.settings.data_dir), self.framework.code, self.run, level)
        with _results_lock:
            hit = _results_cache.get(key)
        if hit is None:
            hit = self.read(level)
            with _results_lock:
                _results_cache[key] = hit
                while len(_results_cache) > RESULTS_CACHE_SIZE:
                    _results_cache.pop(next(iter(_results_cache)))
        return hit

    def memo(self, name: str, key: tuple[Any, ...], make: Any) -> Any:
        """``make()``, cached until the index run or the observation batches change (both
        are part of the key, with the language of the names), so repeated dashboard calls
        cost a lookup."""
        full = (str(self.settings.data_dir), self.framework.code, self.run,
                signature(self.settings), get_locale(), name, *key)
        with _results_lock:
            hit = _results_cache.get(full)
        if hit is None:
            hit = make()
            with _results_lock:
                _results_cache[full] = hit
                while len(_results_cache) > RESULTS_CACHE_SIZE:
                    _results_cache.pop(next(iter(_results_cache)))
        return hit

    def read(self, level: str) -> pd.DataFrame:
        """Stored index results at ``level``: columns unit, period, code, value, rank (the
        district's are derived from its streets by the index service)."""
        try:
            return read_results(self.runtime, framework=self.framework.code, level=level)
        except NotFound:
            return pd.DataFrame(columns=["unit", "period", "code", "value", "rank"])


def metric_choices(fw: Framework) -> list[dict[str, str]]:
    nodes = [n for n in fw.nodes if not isinstance(n, Indicator)]
    out = [{"code": n.code, "name": bilingual(n.name_zh, n.name_en), "kind": n.kind}
           for n in nodes]
    out += [{"code": i.code, "name": bilingual(i.name_zh, i.name_en), "kind": "indicator"}
            for i in fw.index_indicators]
    return out


def pillars(fw: Framework) -> list[Node]:
    return fw.children(fw.root.code)


def _node_values(src: ScreenSources, metric: str, level: str, codes: list[str]) -> pd.DataFrame:
    """Columns area_code, period, value for ``metric`` at ``codes`` (index node or indicator)."""
    node = src.framework.node(metric)
    if isinstance(node, Indicator):
        df = src.store.query(indicators=[metric], area_codes=codes, level=level)
        return df[["area_code", "period", "value"]]
    res = src.results(level)
    res = res[(res["code"] == metric) & (res["unit"].isin(codes))]
    return res.rename(columns={"unit": "area_code"})[["area_code", "period", "value"]]


def complete_periods(periods: Any, today: dt.date) -> list[str]:
    """The periods that were over before ``today``, oldest first (a year, quarter or month
    still running is left out, so every figure compares whole periods)."""
    done = {str(p) for p in periods if is_complete(Period.parse(str(p)), today)}
    return sorted(done, key=lambda p: Period.parse(p).start)


def _latest_two(df: pd.DataFrame, today: dt.date) -> tuple[str | None, str | None]:
    periods = complete_periods(df["period"].astype(str).unique(), today)
    return (periods[-1] if periods else None, periods[-2] if len(periods) > 1 else None)


def _ranks(values: dict[str, float]) -> dict[str, int]:
    ordered = sorted(values, key=lambda c: -values[c])
    return {c: i + 1 for i, c in enumerate(ordered)}


def map_and_ranking(src: ScreenSources, metric: str, level: str, parent: str,
                    today: dt.date) -> dict[str, Any]:
    codes = src.tree.descendants(parent, level)
    df = _node_values(src, metric, level, codes)
    df = df.assign(period=df["period"].astype(str))
    last, prev = _latest_two(df, today)
    cur = {r.area_code: float(r.value) for r in df[df["period"] == last].itertuples()
           if pd.notna(r.value)}
    before = {r.area_code: float(r.value) for r in df[df["period"] == prev].itertuples()
              if pd.notna(r.value)}
    rank_now, rank_before = _ranks(cur), _ranks(before)
    items = []
    for c in codes:
        move = (rank_before[c] - rank_now[c]) if c in rank_now and c in rank_before else 0
        name = area_name(src.tree, c)
        items.append({"code": c, "name": name, "short": short_name(name),
                      "value": round(cur[c], 2) if c in cur else None,
                      "rank": rank_now.get(c), "move": move})
    return {"period": last, "previous_period": prev, "items": items}


def parent_profile(src: ScreenSources, parent: str, today: dt.date) -> dict[str, Any]:
    """Index and pillar scores of ``parent`` over its complete periods (for radar, trend and
    headline)."""
    level = src.tree.level[parent]
    res = src.results(level)
    res = res[res["unit"] == parent]
    codes = [src.framework.root.code] + [p.code for p in pillars(src.framework)]
    periods = complete_periods(res["period"].astype(str).unique(), today)
    table = {c: {str(r.period): float(r.value) for r in res[res["code"] == c].itertuples()
                 if pd.notna(r.value)} for c in codes}
    return {"periods": periods, "values": table}


def figures_panel(src: ScreenSources, area: str, today: dt.date) -> dict[str, Any]:
    """The area's headline indicators and its case handling, each for its latest complete
    period, said in words with unit and source (``analysis.keyfigures``)."""
    loc = get_locale()
    keys = indicator_figures(src.store, src.framework, area, today, src.tz)
    cases = case_figures(src.store, src.framework, area, today, src.tz)
    return {"key_figures": [f.to_dict(loc) for f in keys],
            "cases": [f.to_dict(loc) for f in cases],
            "cases_period": cases[0].period_words(loc) if cases else ""}


def targets_panel(session: Session, actor: Actor, area: str, today: dt.date
                  ) -> dict[str, Any]:
    """The accountability targets within ``area`` the viewer may see, with their status from
    the one target status (``accountability.status.target_status``), most urgent first."""
    rows = [] if not can(actor, "accountability.view") else [
        r for r in list_targets(session, actor, today) if r["area_code"].startswith(area)]
    order = {"red": 0, "amber": 1, "green": 2}
    rows.sort(key=lambda r: (order.get(r["status"], 3), r["deadline"]))
    keep = ("id", "code", "name", "status", "status_name", "deadline", "indicator_code")
    return {"targets": [{k: r[k] for k in keep} | {"actual": r["actual_pct"],
                                                  "planned": r["planned_pct"]} for r in rows],
            "target_counts": {k: sum(1 for r in rows if r["status"] == k) for k in order},
            "targets_as_of": period_text(Period.of(today, "D"), get_locale())}


def with_linked_status(figures: list[dict[str, Any]], linked: dict[str, dict[str, Any]]
                       ) -> list[dict[str, Any]]:
    """A figure whose indicator a district target follows carries that target's status (from
    ``accountability.targets.indicator_statuses``); the others have none."""
    return [f | {"status": linked[f["code"]]["status"], "linked_target": linked[f["code"]]}
            if f["code"] in linked else f for f in figures]


def case_feed(session: Session, actor: Actor, parent: str, tree: AreaTree, tz: ZoneInfo
              ) -> list[dict[str, Any]]:
    """The latest case events in the viewer's scope, newest first; overdue cases flagged."""
    prefixes = scope_prefixes(actor, "screens.view")
    q = (select(CaseEvent, Case, CaseCategory)
         .join(Case, Case.id == CaseEvent.case_id)
         .join(CaseCategory, CaseCategory.code == Case.category_code)
         .where(Case.area_code.startswith(parent))
         .order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).limit(FEED_LIMIT * 3))
    out: list[dict[str, Any]] = []
    for ev, case, cat in session.execute(q):
        if prefixes is not None and not any(case.area_code.startswith(p) for p in prefixes):
            continue
        street = case.area_code[:9]
        local = ev.at.astimezone(tz).strftime("%m-%d %H:%M")
        overdue = bool(case.due_at and case.closed_at is None and case.due_at < ev.at)
        text = _("{time} {street} · {category} · {action}").format(
            time=local, street=area_name(tree, street),
            category=bilingual(cat.name_zh, cat.name_en), action=_action_label(ev.action))
        out.append({"case_id": case.id, "at": ev.at.isoformat(), "text": text,
                    "alert": overdue or ev.action in ("escalate", "supervise")})
        if len(out) >= FEED_LIMIT:
            break
    return out


def _action_label(action: str) -> str:
    t = TABLE.get(action)
    label = t.label if t else (REPORT_LABEL if action == "report" else action)
    return _(label)


def screen_home(actor: Actor, district: str) -> str:
    """The area a viewer's big screen shows: the district for those who see it all, else the
    one street (or smaller area) their grants cover — street staff see their own street."""
    if can(actor, "screens.view", district):
        return district
    prefixes = [p for p in scope_prefixes(actor, "screens.view") or [] if p.startswith(district)]
    if len(prefixes) == 1:
        return prefixes[0]
    require(actor, "screens.view", district)  # several streets or none: refused as before
    return district


def screen_summary(session: Session, actor: Actor, src: ScreenSources, *, level: str,
                   parent: str, metric: str | None = None) -> dict[str, Any]:
    """Everything the big screen shows for areas at ``level`` under ``parent``."""
    require(actor, "screens.view", parent)
    home = screen_home(actor, src.settings.district_code)
    if parent not in src.tree:
        raise NotFound("No area with code {area}.", area=parent)
    if NEXT_LEVEL.get(src.tree.level[parent]) != level:
        raise ValidationFailed("The map shows the areas one level below {area}.",
                               code="bad_level", area=parent)
    fw = src.framework
    metric = metric or fw.root.code
    node = fw.node(metric)
    today = src.today()
    mr = src.memo("map", (metric, level, parent, today),
                  lambda: map_and_ranking(src, metric, level, parent, today))
    prof = src.memo("profile", (parent, today), lambda: parent_profile(src, parent, today))
    figures = dict(src.memo("figures", (home, today),
                            lambda: figures_panel(src, home, today)))
    projects = projects_figure(session, home, today)  # the register changes any time
    if projects is not None:
        figures["key_figures"] = [*figures["key_figures"], projects.to_dict(get_locale())]
    linked = indicator_statuses(session, actor, home, today)
    for part in ("key_figures", "cases"):
        figures[part] = with_linked_status(figures[part], linked)
    return assemble(src, node, level, parent, mr, prof) | figures | {
        **targets_panel(session, actor, home, today),
        "feed": case_feed(session, actor, parent, src.tree, src.tz),
    }


def assemble(src: ScreenSources, node: Node, level: str, parent: str, mr: dict[str, Any],
             prof: dict[str, Any]) -> dict[str, Any]:
    """Numbers and chart options, without the store- and session-bound parts."""
    fw = src.framework
    unit = node.unit if isinstance(node, Indicator) else _("points")
    axes = [{"code": p.code, "name": bilingual(p.name_zh, p.name_en)} for p in pillars(fw)]
    periods = prof["periods"]
    radar_series = [{"name": words(p, get_locale()),
                     "values": [prof["values"][a["code"]].get(p) for a in axes]}
                    for p in periods[-2:]]
    root = fw.root.code
    trend_series = [{"name": bilingual(fw.root.name_zh, fw.root.name_en),
                     "values": [prof["values"][root].get(p) for p in periods]}]
    trend_series += [{"name": a["name"], "values": [prof["values"][a["code"]].get(p)
                                                     for p in periods]} for a in axes]
    head_now = prof["values"][root].get(periods[-1]) if periods else None
    head_before = prof["values"][root].get(periods[-2]) if len(periods) > 1 else None
    move = None if head_now is None or head_before is None else round(head_now - head_before, 2)
    ranked = [i for i in mr["items"] if i["value"] is not None]
    loc = get_locale()
    return {
        "ok": True,
        "level": level, "parent": parent, "parent_name": area_name(src.tree, parent),
        "metric": {"code": node.code, "name": bilingual(node.name_zh, node.name_en),
                   "unit": unit},
        "metrics": metric_choices(fw),
        "period": mr["period"], "previous_period": mr["previous_period"],
        "period_text": words(mr["period"], loc),
        "previous_period_text": words(mr["previous_period"], loc),
        "map_items": mr["items"],
        "ranking_codes": [r["code"] for r in charts.ranking_order(ranked)],
        "radar": {"axes": axes, "series": radar_series},
        "trend": {"periods": periods, "series": trend_series},
        "headline": {
            "name": bilingual(fw.root.name_zh, fw.root.name_en),
            "value": head_now, "display": "—" if head_now is None else f"{head_now:.1f}",
            "period": periods[-1] if periods else None,
            "period_text": words(periods[-1] if periods else None, loc),
            "move": move,
            "move_text": "" if move is None else _("{arrow}{delta} on {period}").format(
                arrow="▲" if move >= 0 else "▼", delta=f"{abs(move):.1f}",
                period=words(periods[-2], loc)),
        },
        "vintage": vintage_text(src),
        "options": {
            "map": charts.choropleth(f"{level}-{parent}", mr["items"], unit=unit, theme="dark"),
            "radar": charts.radar(axes, radar_series, theme="dark"),
            "trend": charts.trend(periods, trend_series, theme="dark"),
            "ranking": charts.ranking(ranked, unit=unit, theme="dark"),
        },
    }


def words(period: str | None, locale: str) -> str:
    """A period in words (2025年, 2026年11月), empty for none."""
    return period_text(Period.parse(period), locale) if period else ""


def short_name(name: str) -> str:
    """A street's name for a map label on a wall screen: 辽宁路街道 → 辽宁路,
    Liaoning Road Subdistrict → Liaoning Rd."""
    for suffix in ("街道办事处", "街道", " Subdistrict", " Sub-district", " Street"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return name.replace(" Road", " Rd")


def vintage_text(src: ScreenSources) -> str | None:
    summary = src.store.summary()
    if summary.empty:
        return None
    last = pd.Timestamp(summary["last_vintage"].max()).tz_convert(src.tz)
    return str(last.strftime("%Y-%m-%d %H:%M"))
