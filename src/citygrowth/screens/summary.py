"""The big screen's numbers: one call assembles everything ``/screen`` draws.

Index and pillar scores come from the index engine's stored results (never recomputed here);
indicator values from the observation store; the live feed from the case store, limited to
the areas the viewer may see. The result carries both the raw numbers and the ECharts options
built from them, so the browser test can compare what is drawn with its JSON twin.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.accountability.targets import indicator_statuses
from citygrowth.areas.tree import AreaTree
from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import require, scope_prefixes
from citygrowth.catalog.framework import Framework, Indicator, Node
from citygrowth.errors import NotFound, ValidationFailed
from citygrowth.governance.lifecycle import REPORT_LABEL, TABLE
from citygrowth.governance.models import Case, CaseCategory, CaseEvent
from citygrowth.i18n import _, bilingual, get_locale
from citygrowth.index.service import read_results
from citygrowth.observatory.batches import signature
from citygrowth.observatory.store import ObservationStore
from citygrowth.runtime import Runtime
from citygrowth.screens import charts
from citygrowth.screens.explore import area_name
from citygrowth.settings import Settings

NEXT_LEVEL = {"district": "street", "street": "community", "community": "grid"}
RESULTS_CACHE_SIZE = 64
_results_cache: dict[tuple[str, ...], pd.DataFrame] = {}
_results_lock = threading.Lock()
KPI_LIMIT = 8
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


def _latest_two(df: pd.DataFrame) -> tuple[str | None, str | None]:
    periods = sorted(df["period"].astype(str).unique().tolist())
    return (periods[-1] if periods else None, periods[-2] if len(periods) > 1 else None)


def _ranks(values: dict[str, float]) -> dict[str, int]:
    ordered = sorted(values, key=lambda c: -values[c])
    return {c: i + 1 for i, c in enumerate(ordered)}


def map_and_ranking(src: ScreenSources, metric: str, level: str, parent: str) -> dict[str, Any]:
    codes = src.tree.descendants(parent, level)
    df = _node_values(src, metric, level, codes)
    last, prev = _latest_two(df)
    cur = {r.area_code: float(r.value) for r in df[df["period"] == last].itertuples()
           if pd.notna(r.value)}
    before = {r.area_code: float(r.value) for r in df[df["period"] == prev].itertuples()
              if pd.notna(r.value)}
    rank_now, rank_before = _ranks(cur), _ranks(before)
    items = []
    for c in codes:
        move = (rank_before[c] - rank_now[c]) if c in rank_now and c in rank_before else 0
        items.append({"code": c, "name": area_name(src.tree, c),
                      "value": round(cur[c], 2) if c in cur else None,
                      "rank": rank_now.get(c), "move": move})
    return {"period": last, "previous_period": prev, "items": items}


def parent_profile(src: ScreenSources, parent: str) -> dict[str, Any]:
    """Index and pillar scores of ``parent`` over time (for radar, trend and headline)."""
    level = src.tree.level[parent]
    res = src.results(level)
    res = res[res["unit"] == parent]
    codes = [src.framework.root.code] + [p.code for p in pillars(src.framework)]
    periods = sorted(res["period"].astype(str).unique().tolist())
    table = {c: {str(r.period): float(r.value) for r in res[res["code"] == c].itertuples()
                 if pd.notna(r.value)} for c in codes}
    return {"periods": periods, "values": table}


def kpis(src: ScreenSources, district: str) -> list[dict[str, Any]]:
    """Key district figures with a target in the catalog, latest value against it."""
    chosen = [i for i in src.framework.index_indicators if i.target is not None][:KPI_LIMIT]
    if not chosen:
        return []
    df = src.store.query(indicators=[i.code for i in chosen], area_codes=[district])
    out = []
    for ind in chosen:
        sub = df[df["indicator"] == ind.code].sort_values("period")
        if sub.empty:
            continue
        value = float(sub["value"].iloc[-1])
        out.append(kpi_tile(ind, value, str(sub["period"].iloc[-1])))
    return out


def kpi_tile(ind: Indicator, value: float, period: str) -> dict[str, Any]:
    """A tile's status: green when the target is met, amber within 10 % of it, else red."""
    target = float(ind.target) if ind.target is not None else None
    status = ""
    if target is not None and target != 0:
        gap = (value - target) / abs(target) * ind.direction
        status = "green" if gap >= 0 else ("amber" if gap >= -0.10 else "red")
    display = f"{value:,.1f}" if abs(value) < 1e6 else f"{value:,.0f}"
    return {
        "code": ind.code, "name": bilingual(ind.name_zh, ind.name_en), "value": value,
        "display": display, "unit": ind.unit, "period": period, "target": target,
        "status": status,
        "target_text": "" if target is None else _("Target {target}").format(
            target=f"{target:,.1f}"),
    }


def case_feed(session: Session, actor: Actor, parent: str, tree: AreaTree,
              tz: ZoneInfo) -> list[dict[str, Any]]:
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


def screen_summary(session: Session, actor: Actor, src: ScreenSources, *, level: str,
                   parent: str, metric: str | None = None) -> dict[str, Any]:
    """Everything the big screen shows for areas at ``level`` under ``parent``."""
    require(actor, "screens.view", parent)
    if parent not in src.tree:
        raise NotFound("No area with code {area}.", area=parent)
    if NEXT_LEVEL.get(src.tree.level[parent]) != level:
        raise ValidationFailed("The map shows the areas one level below {area}.",
                               code="bad_level", area=parent)
    fw = src.framework
    metric = metric or fw.root.code
    node = fw.node(metric)
    mr = src.memo("map", (metric, level, parent),
                  lambda: map_and_ranking(src, metric, level, parent))
    prof = src.memo("profile", (parent,), lambda: parent_profile(src, parent))
    tiles = src.memo("kpis", (), lambda: kpis(src, src.settings.district_code))
    return assemble(src, node, level, parent, mr, prof) | {
        "kpis": with_target_status(session, actor, tiles, src.runtime),
        "feed": case_feed(session, actor, parent, src.tree, src.runtime.tz),
    }


def with_target_status(session: Session, actor: Actor, tiles: list[dict[str, Any]],
                       runtime: Runtime) -> list[dict[str, Any]]:
    """A key figure whose indicator is linked to a district target shows that target's status,
    from the one target status the target pages use (``accountability.status``)."""
    linked = indicator_statuses(session, actor, runtime.settings.district_code, runtime.today())
    return [tile | {"status": linked[tile["code"]]["status"],
                    "linked_target": linked[tile["code"]]}
            if tile["code"] in linked else tile for tile in tiles]


def assemble(src: ScreenSources, node: Node, level: str, parent: str, mr: dict[str, Any],
             prof: dict[str, Any]) -> dict[str, Any]:
    """Numbers and chart options, without the store- and session-bound parts."""
    fw = src.framework
    unit = node.unit if isinstance(node, Indicator) else _("points")
    axes = [{"code": p.code, "name": bilingual(p.name_zh, p.name_en)} for p in pillars(fw)]
    periods = prof["periods"]
    radar_series = [{"name": p, "values": [prof["values"][a["code"]].get(p) for a in axes]}
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
    return {
        "ok": True,
        "level": level, "parent": parent, "parent_name": area_name(src.tree, parent),
        "metric": {"code": node.code, "name": bilingual(node.name_zh, node.name_en),
                   "unit": unit},
        "metrics": metric_choices(fw),
        "period": mr["period"], "previous_period": mr["previous_period"],
        "map_items": mr["items"],
        "radar": {"axes": axes, "series": radar_series},
        "trend": {"periods": periods, "series": trend_series},
        "headline": {
            "name": bilingual(fw.root.name_zh, fw.root.name_en),
            "value": head_now, "display": "—" if head_now is None else f"{head_now:.1f}",
            "move": move,
            "move_text": "" if move is None else ("▲" if move >= 0 else "▼") + f"{abs(move):.1f}",
        },
        "vintage": vintage_text(src),
        "options": {
            "map": charts.choropleth(f"{level}-{parent}", mr["items"], unit=unit, theme="dark"),
            "radar": charts.radar(axes, radar_series, theme="dark"),
            "trend": charts.trend(periods, trend_series, theme="dark"),
            "ranking": charts.ranking(ranked, unit=unit, theme="dark"),
        },
    }


def vintage_text(src: ScreenSources) -> str | None:
    summary = src.store.summary()
    if summary.empty:
        return None
    last = pd.Timestamp(summary["last_vintage"].max()).tz_convert(src.runtime.tz)
    return str(last.strftime("%Y-%m-%d %H:%M"))
