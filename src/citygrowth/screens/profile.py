"""An area's profile: index and pillars over time, rank and its uncertainty, strengths and
weaknesses, what drove the last change, its targets and its open cases.

Explanations and Monte Carlo intervals rebuild the stored index run, which takes a moment; they
are cached per (run, level) so that a profile costs a lookup after the first visit.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from citygrowth.accountability.models import Target
from citygrowth.accountability.status import target_status
from citygrowth.areas.codes import within, within_any
from citygrowth.auth.actor import Actor, system_actor
from citygrowth.auth.permissions import require, scope_prefixes
from citygrowth.catalog.framework import Framework
from citygrowth.db import utcnow
from citygrowth.errors import CityGrowthError, NotFound
from citygrowth.governance.counts import bucket_counts
from citygrowth.governance.lifecycle import OPEN, RUNNING, STATUSES
from citygrowth.governance.models import Case, open_term
from citygrowth.i18n import _, bilingual, get_locale
from citygrowth.index.service import (
    explain_for,
    latest_vintage_computed,
    strengths_for,
    uncertainty_for,
)
from citygrowth.screens import charts
from citygrowth.screens.explore import area_name
from citygrowth.screens.summary import ScreenSources, parent_profile, pillars, words

_cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_lock = threading.Lock()
CACHE_SIZE = 32
DRIVERS = 8


def cached(key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = make()
    with _lock:
        _cache[key] = value
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def run_key(session: Session, fw: Framework) -> str | None:
    vintage = latest_vintage_computed(session, fw.code, fw.version)
    return f"{fw.version}@{vintage}" if vintage else None


def _name(fw: Framework, code: str) -> str:
    try:
        n = fw.node(code)
    except NotFound:
        return code
    return bilingual(n.name_zh, n.name_en)


def rank_block(src: ScreenSources, level: str, code: str, period: str | None,
               key: str | None, interval: bool = True) -> dict[str, Any]:
    """Nominal rank among the areas of the level, with the Monte Carlo 5–95 % interval when
    ``interval`` is set or the simulations of this run are already cached (they take seconds
    the first time, so the profile page asks for them separately)."""
    if period is None:
        return {}
    res = src.results(level)
    root = src.framework.root.code
    cur = res[(res["code"] == root) & (res["period"] == period)]
    mine = cur[cur["unit"] == code]
    if mine.empty:
        return {}
    out: dict[str, Any] = {"rank": int(mine["rank"].iloc[0]), "of": int(cur["value"].notna().sum())}
    unc_key = ("unc", key, level)
    if out["of"] < 2 or not (interval or unc_key in _cache):
        return out
    summary = cached(unc_key, lambda: uncertainty_for(
        src.runtime, system_actor("screens"), level=level))
    row = summary[(summary["unit"] == code) & (summary["period"] == period)]
    if not row.empty:
        out.update(median=float(row["median"].iloc[0]), q05=float(row["q05"].iloc[0]),
                   q95=float(row["q95"].iloc[0]))
    return out


def drivers(src: ScreenSources, level: str, code: str, prev: str | None, last: str | None,
            key: str | None) -> dict[str, Any]:
    """Each indicator's contribution to the index change from ``prev`` to ``last``."""
    fw = src.framework
    out: dict[str, Any] = {"drivers": [], "strengths": [], "weaknesses": []}
    actor = system_actor("screens")
    try:
        if prev and last:
            df = cached(("explain", key, level, code, prev, last),
                        lambda: explain_for(src.runtime, actor, code, prev, last, level=level))
            out["drivers"] = [
                {"indicator": r.indicator, "name": _name(fw, r.indicator),
                 "contribution": round(float(r.contribution), 3),
                 "change": None if pd.isna(r.change) else float(r.change)}
                for r in df.head(DRIVERS).itertuples() if r.contribution != 0]
            out["index_change"] = round(float(df.attrs.get("node_change", 0.0)), 3)
        if last:
            sw = cached(("sw", key, level, code, last),
                        lambda: strengths_for(src.runtime, actor, code, last, level=level))
            for side in ("strengths", "weaknesses"):
                out[side] = [dict(i, name=_name(fw, str(i["indicator"]))) for i in sw[side]]
    except CityGrowthError:
        return out  # an area without two comparable periods simply has no explanation
    return out


def targets_of(session: Session, actor: Actor, code: str, today: dt.date
               ) -> list[dict[str, Any]]:
    """The area's targets with their status from the one target status — those the viewer may
    read (a street's staff see another street's profile without its targets)."""
    prefixes = scope_prefixes(actor, "accountability.view")
    conds = [Target.area_code == code]
    if prefixes is not None:
        conds.append(or_(false(), *[Target.area_code.startswith(p) for p in prefixes]))
    out = []
    for t in session.scalars(select(Target).where(*conds).order_by(Target.deadline)):
        st = target_status(t, today)
        out.append({"id": t.id, "name": bilingual(t.name_zh, t.name_en),
                    "deadline": t.deadline.isoformat(), "status": st.status,
                    "status_name": _(st.label),
                    "progress": round(st.actual * 100, 1), "planned": round(st.planned * 100, 1)})
    return out


def cases_of(session: Session, actor: Actor, code: str) -> dict[str, Any]:
    """Open cases under ``code`` by status, and how many are overdue — within the viewer's
    scope (a street sees only its own)."""
    prefixes = scope_prefixes(actor, "screens.view")
    if prefixes is not None and not any(code.startswith(p) or p.startswith(code)
                                        for p in prefixes):
        return {"visible": False, "by_status": [], "open": 0, "overdue": 0}
    kept = bucket_counts(session, prefixes, None, code)
    rows = [(s, kept.get(s, 0)) for s in OPEN if kept.get(s, 0)]
    # overdue as the command center counts it: the handling clock has run out
    conds = [within(Case.area_code, code), open_term(implied=True), Case.status.in_(RUNNING),
             Case.due_at < utcnow()]
    if prefixes is not None:
        conds.append(within_any(Case.area_code, prefixes))
    overdue = session.scalar(select(func.count()).select_from(Case).where(*conds)) or 0
    by_status = [{"status": s, "name": _(STATUSES.get(s, s)), "count": int(n)}
                 for s, n in sorted(rows)]
    return {"visible": True, "by_status": by_status, "open": sum(b["count"] for b in by_status),
            "overdue": int(overdue)}


def area_profile(session: Session, actor: Actor, src: ScreenSources, code: str
                 ) -> dict[str, Any]:
    require(actor, "screens.explore")
    if code not in src.tree:
        raise NotFound("No area with code {area}.", area=code)
    level = src.tree.level[code]
    prof = parent_profile(src, code, src.today())
    periods = prof["periods"]
    last = periods[-1] if periods else None
    prev = periods[-2] if len(periods) > 1 else None
    key = run_key(session, src.framework)
    fw = src.framework
    axes = [{"code": p.code, "name": bilingual(p.name_zh, p.name_en)} for p in pillars(fw)]
    series = [{"name": bilingual(fw.root.name_zh, fw.root.name_en),
               "values": [prof["values"][fw.root.code].get(p) for p in periods]}]
    series += [{"name": a["name"], "values": [prof["values"][a["code"]].get(p)
                                               for p in periods]} for a in axes]
    expl = drivers(src, level, code, prev, last, key)
    chain = [{"code": c, "name": area_name(src.tree, c)}
             for c in reversed(src.tree.ancestors(code))]
    return {
        "ok": True, "code": code, "name": area_name(src.tree, code), "level": level,
        "ancestors": chain,
        "children": [{"code": c, "name": area_name(src.tree, c)}
                     for c in src.tree.children.get(code, [])],
        "population": src.tree.population.get(code),
        "periods": periods, "series": series, "period": last, "previous_period": prev,
        "period_text": words(last, get_locale()), "previous_period_text": words(prev, get_locale()),
        "index": series[0]["values"][-1] if periods else None,
        "pillars": [{"code": a["code"], "name": a["name"],
                     "value": prof["values"][a["code"]].get(last) if last else None}
                    for a in axes],
        "rank": rank_block(src, level, code, last, key, interval=False),
        **expl,
        "targets": targets_of(session, actor, code, src.today()),
        "cases": cases_of(session, actor, code),
        "options": {
            "trend": charts.trend(periods, series),
            "radar": charts.radar(axes, [{"name": p, "values": [
                prof["values"][a["code"]].get(p) for a in axes]} for p in periods[-2:]]),
            "drivers": charts.ranking(
                [{"name": d["name"], "value": d["contribution"]} for d in expl["drivers"]],
                unit=_("points")),
        },
    }


def rank_interval(session: Session, actor: Actor, src: ScreenSources, code: str
                  ) -> dict[str, Any]:
    """The area's rank with its Monte Carlo interval (the slow part of a profile)."""
    require(actor, "screens.explore")
    if code not in src.tree:
        raise NotFound("No area with code {area}.", area=code)
    level = src.tree.level[code]
    periods = parent_profile(src, code, src.today())["periods"]
    last = periods[-1] if periods else None
    return {"ok": True, "code": code, "period": last,
            **rank_block(src, level, code, last, run_key(session, src.framework))}
