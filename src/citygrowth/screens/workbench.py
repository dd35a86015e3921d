"""The index workbench: change weights or methods, see scores and ranks side by side with the
published run, look at audit and uncertainty results, and export the changes as a new
framework version.

The baseline is the stored run (``index.service.load_coin``); a preview is that run replayed
with the changes (``Coin.regen``) — nothing is stored until an administrator installs the
exported framework file.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, Field

from citygrowth.auth.actor import Actor, system_actor
from citygrowth.auth.permissions import require
from citygrowth.errors import ValidationFailed
from citygrowth.i18n import _, bilingual
from citygrowth.index.aggregate import METHODS as AGGREGATION_METHODS
from citygrowth.index.coin import Coin
from citygrowth.index.explain import compare_runs
from citygrowth.index.normalise import METHODS as NORMALISATION_METHODS
from citygrowth.index.sensitivity import sensitivity as sobol
from citygrowth.index.service import audit_for, load_coin, uncertainty_for
from citygrowth.index.weights import DATA_DRIVEN, effective_weights
from citygrowth.screens import charts
from citygrowth.screens.explore import area_name
from citygrowth.screens.profile import cached
from citygrowth.screens.summary import ScreenSources

WEIGHTING_METHODS = ("fixed", "equal", *DATA_DRIVEN)
LEVELS = ("street", "community", "grid")


class WorkbenchChanges(BaseModel):
    """What an analyst changes. ``weights`` gives new relative weights of children per node."""

    level: str = Field("street", pattern="^(street|community|grid)$")
    normalisation: str | None = Field(None, max_length=30)
    aggregation: str | None = Field(None, max_length=30)
    weighting: str | None = Field(None, max_length=30)
    weights: dict[str, dict[str, float]] = Field(default_factory=dict)


def _check(value: str | None, allowed: tuple[str, ...], field: str) -> None:
    if value is not None and value not in allowed:
        raise ValidationFailed("Unknown method {method} for {what}; choose one of {allowed}.",
                               code="bad_method", method=value, what=field,
                               allowed=", ".join(allowed))


def settings_changes(coin: Coin, ch: WorkbenchChanges) -> dict[str, Any]:
    """Turn the form into ``Coin.regen`` settings changes, checking every code and number."""
    _check(ch.normalisation, NORMALISATION_METHODS, "normalisation")
    _check(ch.aggregation, AGGREGATION_METHODS, "aggregation")
    _check(ch.weighting, WEIGHTING_METHODS, "weighting")
    out: dict[str, Any] = {}
    if ch.normalisation:
        out["normalise"] = {"method": ch.normalisation}
    if ch.aggregation:
        out["aggregate"] = {"method": ch.aggregation}
    nodes: dict[str, Any] = {}
    for node, values in ch.weights.items():
        spec_node = coin.spec.nodes.get(node)
        if spec_node is None or spec_node.is_indicator:
            raise ValidationFailed("{node} is not an aggregate of this index.", code="bad_node",
                                   node=node)
        unknown = [c for c in values if c not in spec_node.children]
        if unknown:
            raise ValidationFailed("{child} is not directly under {node}.", code="bad_node",
                                   child=unknown[0], node=node)
        bad = [c for c, w in values.items() if not np.isfinite(w) or w < 0]
        if bad or (values and sum(values.values()) <= 0):
            raise ValidationFailed("Weights under {node} must be non-negative and not all zero.",
                                   code="bad_weight", node=node)
        nodes[node] = {"method": "fixed", "values": dict(values)}
    if ch.weighting or nodes:
        out["weights"] = {"method": ch.weighting or "fixed", "nodes": nodes}
    return out


def baseline(src: ScreenSources, level: str, key: str | None) -> Coin:
    return cached(("coin", key, level), lambda: load_coin(src.runtime, level=level))  # type: ignore[no-any-return]


def tree(src: ScreenSources, coin: Coin) -> list[dict[str, Any]]:
    """Aggregates with their children's current weights, for the form."""
    fw = src.framework
    out = []
    for code, node in coin.spec.nodes.items():
        if node.is_indicator:
            continue
        out.append({
            "code": code, "name": _node_name(fw, code), "level": coin.spec.level_of(code),
            "children": [{"code": c, "name": _node_name(fw, c),
                          "weight": float(coin.weights.get(c, coin.spec.nodes[c].weight))}
                         for c in node.children],
        })
    return out


def _node_name(fw: Any, code: str) -> str:
    try:
        n = fw.node(code)
        return bilingual(n.name_zh, n.name_en)
    except Exception:  # a node the spec dropped or renamed
        return code


def state(actor: Actor, src: ScreenSources, level: str, key: str | None) -> dict[str, Any]:
    require(actor, "screens.workbench")
    coin = baseline(src, level, key)
    return {
        "ok": True, "level": level, "tree": tree(src, coin),
        "framework": {"code": src.framework.code, "version": src.framework.version},
        "methods": {
            "normalisation": list(NORMALISATION_METHODS),
            "aggregation": list(AGGREGATION_METHODS),
            "weighting": list(WEIGHTING_METHODS),
        },
        "current": {
            "normalisation": (coin.spec.step("normalise") or {}).get("method", "minmax"),
            "aggregation": (coin.spec.step("aggregate") or {}).get("method", "arithmetic"),
            "weighting": (coin.spec.step("weights") or {}).get("method", "fixed"),
        },
    }


def preview(actor: Actor, src: ScreenSources, ch: WorkbenchChanges, key: str | None
            ) -> dict[str, Any]:
    """Scores and ranks of every unit in the latest period: published run vs the changes."""
    require(actor, "screens.workbench")
    base = baseline(src, ch.level, key)
    changes = settings_changes(base, ch)
    alt = base.regen(changes)
    cmp = compare_runs(base, alt)
    period = str(cmp["period"].max())
    cur = cmp[cmp["period"] == period].sort_values("rank_b")
    rows = [{"unit": r.unit, "name": area_name(src.tree, r.unit),
             "value_a": _num(r.value_a), "value_b": _num(r.value_b),
             "rank_a": _int(r.rank_a), "rank_b": _int(r.rank_b),
             "rank_change": None if pd.isna(r.rank_change) else -int(r.rank_change)}
            for r in cur.itertuples()]
    names = [r["name"] for r in rows]
    option = charts.bars(names, [
        {"name": _("Published"), "values": [r["value_a"] for r in rows]},
        {"name": _("With your changes"), "values": [r["value_b"] for r in rows]},
    ], unit=_("points"))
    moved = sum(1 for r in rows if r["rank_change"])
    return {"ok": True, "level": ch.level, "period": period, "changes": changes, "rows": rows,
            "moved": moved, "option": option,
            "effective_weights": _effective(base, alt)}


def _effective(a: Coin, b: Coin) -> list[dict[str, Any]]:
    ea, eb = effective_weights(a.spec, a.weights), effective_weights(b.spec, b.weights)
    return [{"code": c, "published": round(ea[c], 4), "changed": round(eb.get(c, 0.0), 4)}
            for c in ea if c != a.spec.root and a.spec.level_of(c) == 1]


def _num(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else round(float(v), 3)


def _int(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def analysis(actor: Actor, src: ScreenSources, level: str, key: str | None) -> dict[str, Any]:
    """Audit (correlation flags, Cronbach's alpha) and Monte Carlo rank intervals as charts."""
    require(actor, "screens.workbench")
    sys = system_actor("screens")
    aud = cached(("audit", key, level), lambda: audit_for(src.runtime, sys, level=level))
    unc = cached(("unc", key, level), lambda: uncertainty_for(src.runtime, sys, level=level))
    period = str(unc["period"].max()) if not unc.empty else None
    cur = unc[unc["period"] == period].sort_values("nominal") if period else unc
    names = [area_name(src.tree, u) for u in cur["unit"]]
    interval = {
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "xAxis": {"type": "category", "data": names, "axisLabel": {"rotate": 30}},
        "yAxis": {"type": "value", "name": _("rank"), "inverse": True, "minInterval": 1},
        "series": [
            {"type": "scatter", "name": _("Published rank"),
             "data": [int(v) for v in cur["nominal"]]},
            {"type": "scatter", "name": _("Median rank"),
             "data": [float(v) for v in cur["median"]]},
            {"type": "bar", "name": _("5–95% interval"), "stack": "iv", "itemStyle": {"opacity": 0},
             "data": [float(v) for v in cur["q05"]]},
            {"type": "bar", "name": _("5–95% interval"), "stack": "iv",
             "itemStyle": {"opacity": 0.35},
             "data": [float(b - a) for a, b in zip(cur["q05"], cur["q95"], strict=True)]},
        ],
    }
    return {"ok": True, "level": level, "period": period, "flags": aud["flags"],
            "groups": aud["groups"], "uncertainty": cur.replace({np.nan: None}).to_dict("records"),
            "options": {"uncertainty": interval}}


def export_yaml(actor: Actor, src: ScreenSources, ch: WorkbenchChanges, version: str,
                key: str | None) -> str:
    """The framework file with the changed weights and methods, as a new version."""
    require(actor, "screens.workbench")
    if not version or version == src.framework.version:
        raise ValidationFailed("Give the new framework version a new number (the published one "
                               "is {version}).", code="bad_version",
                               version=src.framework.version)
    coin = baseline(src, ch.level, key)
    changes = settings_changes(coin, ch)
    with open(src.framework.path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    doc = copy.deepcopy(doc)
    doc["version"] = version
    weights = {child: w for values in ch.weights.values() for child, w in values.items()}
    _set_weights(doc.get("pillars", []), weights)
    index = dict(doc.get("index") or coin.spec.settings)
    for step in ("normalise", "aggregate", "weights"):
        if step in changes:
            index[step] = {**dict(index.get(step) or {}), **changes[step]}
    doc["index"] = index
    return str(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


def _set_weights(items: list[dict[str, Any]], weights: dict[str, float]) -> None:
    for item in items:
        if item.get("code") in weights:
            item["weight"] = weights[item["code"]]
        for key in ("subpillars", "indicators", "children"):
            if isinstance(item.get(key), list):
                _set_weights(item[key], weights)


SENSITIVITY_FACTORS: tuple[dict[str, Any], ...] = (
    {"name": "weights", "kind": "weights", "noise": 0.25},
    {"name": "aggregation", "path": "aggregate.method", "options": ["arithmetic", "geometric"]},
    {"name": "normalisation", "path": "normalise.method", "options": ["minmax", "rank"]},
)
SENSITIVITY_N = 16


def sensitivity(actor: Actor, src: ScreenSources, level: str, key: str | None
                ) -> dict[str, Any]:
    """First- and total-order Sobol indices of the areas' ranks with respect to the weights
    (±25 %), the aggregation and the normalisation, with 5–95 % bootstrap intervals; computed
    once per index run and level (``SENSITIVITY_N`` × (k + 2) replications)."""
    require(actor, "screens.workbench")
    coin = baseline(src, level, key)
    table, params = cached(("sobol", key, level), lambda: sobol(
        coin, SENSITIVITY_FACTORS, n=SENSITIVITY_N, seed=1, n_boot=100))
    names = {"weights": _("Weights"), "aggregation": _("Aggregation"),
             "normalisation": _("Normalisation")}
    labels = [names.get(f, f) for f in table["factor"]]
    option = charts.bars(labels, [
        {"name": _("First-order index"), "values": [round(float(v), 3) for v in table["first"]]},
        {"name": _("Total-order index"), "values": [round(float(v), 3) for v in table["total"]]},
    ])
    return {"ok": True, "level": level, "replications": len(params),
            "indices": table.round(4).replace({np.nan: None}).to_dict("records"),
            "option": option}
