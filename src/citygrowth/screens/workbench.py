"""The index workbench: change weights or methods, see scores and ranks side by side with the
published run, look at audit and uncertainty results, and export the changes as a new
framework version.

The baseline is the stored run (``index.service.load_coin``); a preview is that run replayed
with the changes (``Coin.regen``) — nothing is stored until an administrator installs the
exported framework file.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import Field, field_validator

from citygrowth.auth.actor import Actor, system_actor
from citygrowth.auth.permissions import require
from citygrowth.errors import ValidationFailed
from citygrowth.i18n import N_, _, bilingual, ngettext
from citygrowth.index.coin import Coin
from citygrowth.index.explain import compare_runs
from citygrowth.index.names import choices, method_name
from citygrowth.index.sensitivity import sensitivity as sobol
from citygrowth.index.service import (
    audit_for,
    load_coin,
    remedy_changes,
    uncertainty_for,
)
from citygrowth.index.spec import deep_merge
from citygrowth.index.weights import effective_weights
from citygrowth.index.zeros import NegativeInMean, Rows, scan
from citygrowth.inputs import InputModel
from citygrowth.screens import charts
from citygrowth.screens.explore import area_name
from citygrowth.screens.profile import cached
from citygrowth.screens.summary import ScreenSources

# what the workbench offers: the methods that need no parameter per indicator (a reference
# unit, targets or goalposts for every indicator)
NORMALISATION_METHODS = ("minmax", "zscore", "dist_max", "fraction_max", "rank", "percentile",
                         "borda")
AGGREGATION_METHODS = ("arithmetic", "geometric", "harmonic", "generalised", "copeland",
                       "topsis")
WEIGHTING_METHODS = ("fixed", "equal", "entropy", "critic", "pca", "optimised")
IMPUTATION: dict[str, Any] = {"linear+locf": ["linear", "locf"], "linear": "linear",
                              "locf": "locf", "mean": "mean", "median": "median",
                              "none": None}
LEVELS = ("street", "community", "grid")
Remedy = Literal["shift", "rescale"]


class WorkbenchChanges(InputModel):
    """What an analyst changes. ``weights`` gives new relative weights of children per node;
    ``matrix: raw`` computes data-driven weights and TOPSIS on the raw decision matrix
    (pymcdm's convention); ``zeros``/``shift`` and ``range`` are the remedies for zeros
    under geometric and harmonic means."""

    level: str = Field("street", pattern="^(street|community|grid)$")
    normalisation: str | None = Field(None, max_length=30)
    aggregation: str | None = Field(None, max_length=30)
    weighting: str | None = Field(None, max_length=30)
    imputation: str | None = Field(None, max_length=30)
    matrix: Literal["normalised", "raw"] | None = None
    topsis_normalisation: Literal["minmax", "vector"] | None = None
    zeros: Literal["propagate", "shift"] | None = None
    shift: float | None = Field(None, gt=0, le=1000)
    range: tuple[float, float] | None = None
    weights: dict[str, dict[str, float]] = Field(default_factory=dict)

    @field_validator("range")
    @classmethod
    def _range(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not (np.isfinite(v).all() and v[0] < v[1]):
            raise ValueError("range must be two finite numbers, the first below the second")
        return v


def _check(value: str | None, allowed: tuple[str, ...], field: str, kind: str) -> None:
    if value is not None and value not in allowed:
        raise ValidationFailed("Unknown method {method} for {what}; choose one of {allowed}.",
                               code="bad_method", method=value, what=field,
                               allowed=", ".join(method_name(kind, a) for a in allowed))


def _weights_changes(coin: Coin, ch: WorkbenchChanges) -> dict[str, Any]:
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
    if not (ch.weighting or nodes or ch.matrix):
        return {}
    out: dict[str, Any] = {"method": ch.weighting or "fixed", "nodes": nodes}
    if ch.matrix:
        out["on"] = ch.matrix
    return {"weights": out}


def settings_changes(coin: Coin, ch: WorkbenchChanges) -> dict[str, Any]:
    """Turn the form into ``Coin.regen`` settings changes, checking every code and number."""
    _check(ch.normalisation, NORMALISATION_METHODS, "normalisation", "normalisation")
    _check(ch.aggregation, AGGREGATION_METHODS, "aggregation", "aggregation")
    _check(ch.weighting, WEIGHTING_METHODS, "weighting", "weighting")
    _check(ch.imputation, tuple(IMPUTATION), "imputation", "imputation")
    out: dict[str, Any] = {}
    normalise: dict[str, Any] = {}
    if ch.normalisation:
        normalise["method"] = ch.normalisation
    if ch.range:
        normalise["range"] = list(ch.range)
    if normalise:
        out["normalise"] = normalise
    aggregate: dict[str, Any] = {}
    if ch.aggregation:
        aggregate["method"] = ch.aggregation
    if ch.zeros:
        aggregate["zeros"] = ch.zeros
    if ch.shift is not None:
        aggregate["shift"] = ch.shift
    if ch.topsis_normalisation:
        aggregate["normalisation"] = ch.topsis_normalisation
    if ch.matrix:
        aggregate["on"] = ch.matrix
    if aggregate:
        out["aggregate"] = aggregate
    if ch.imputation:
        method = IMPUTATION[ch.imputation]
        out["impute"] = None if method is None else {"method": method}
    out.update(_weights_changes(coin, ch))
    return out


def baseline(src: ScreenSources, level: str, key: str | None) -> Coin:
    return cached(("coin", key, level),  # type: ignore[no-any-return]
                  lambda: load_coin(src.runtime, level=level))


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


def _imputation_code(step: dict[str, Any] | None) -> str:
    if step is None:
        return "none"
    method = step.get("method", "mean")
    return next((k for k, v in IMPUTATION.items() if v == method), "linear+locf")


def current(coin: Coin) -> dict[str, Any]:
    """The published run's choices, as the form's values."""
    spec = coin.spec
    norm = spec.step("normalise") or {}
    agg = spec.step("aggregate") or {}
    wts = spec.step("weights") or {}
    return {
        "normalisation": norm.get("method", "minmax"),
        "goalposts": bool(norm.get("use_goalposts")),
        "range": [float(v) for v in norm.get("range", (0, 100))],
        "aggregation": agg.get("method", "arithmetic"),
        "zeros": agg.get("zeros", "propagate"), "shift": float(agg.get("shift", 1.0)),
        "topsis_normalisation": agg.get("normalisation", "minmax"),
        "weighting": wts.get("method", "fixed"),
        "matrix": wts.get("on", agg.get("on", "normalised")),
        "imputation": _imputation_code(spec.step("impute")),
    }


def state(actor: Actor, src: ScreenSources, level: str, key: str | None) -> dict[str, Any]:
    """The form: the tree with its weights, every method by name, the current choices."""
    require(actor, "screens.workbench")
    coin = baseline(src, level, key)
    return {
        "ok": True, "level": level, "tree": tree(src, coin),
        "framework": {"code": src.framework.code, "version": src.framework.version},
        "methods": {
            "normalisation": choices("normalisation", NORMALISATION_METHODS),
            "aggregation": choices("aggregation", AGGREGATION_METHODS),
            "weighting": choices("weighting", WEIGHTING_METHODS),
            "imputation": [{"code": k, "name": _imputation_name(k)} for k in IMPUTATION],
            "matrix": choices("matrix", ("normalised", "raw")),
            "topsis_normalisation": choices("topsis_normalisation", ("minmax", "vector")),
            "zeros": choices("zeros", ("propagate", "shift")),
        },
        "current": current(coin),
    }


def _imputation_name(code: str) -> str:
    method = IMPUTATION[code]
    if isinstance(method, list):
        return _("{first}, then {second}").format(
            first=method_name("imputation", method[0]),
            second=method_name("imputation", method[1]).lower())
    return method_name("imputation", method or "none")


def preview(actor: Actor, src: ScreenSources, ch: WorkbenchChanges, key: str | None
            ) -> dict[str, Any]:
    """Scores and ranks of every unit in the latest period: published run vs the changes,
    and a warning (with its remedies) when zeros set scores under a geometric or harmonic
    mean."""
    require(actor, "screens.workbench")
    base = baseline(src, ch.level, key)
    changes = settings_changes(base, ch)
    try:
        alt = base.regen(changes)
    except NegativeInMean as exc:
        return {"ok": True, "level": ch.level, "changes": changes, "rows": [], "moved": 0,
                "blocked": True, "warnings": [_negative_warning(src, exc)],
                "option": None, "effective_weights": []}
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
            "moved": moved, "option": option, "blocked": False,
            "warnings": zero_warnings(src, alt, period),
            "effective_weights": _effective(src, base, alt)}


# --- zeros under geometric and harmonic means, for the period shown ------------------------

def _remedy_buttons(remedies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The engine's remedies as one-click buttons: a label and the form values they set."""
    out = []
    for r in remedies:
        if r["kind"] == "shift":
            shift = float(r["changes"]["aggregate"]["shift"])
            out.append({"kind": "shift", "form": {"zeros": "shift", "shift": shift},
                        "label": _("Add {shift:g} to every score before the mean").format(
                            shift=shift)})
        else:
            out.append({"kind": "rescale",
                        "form": {"normalisation": "minmax", "range": [1, 100]},
                        "label": _("Min-max onto 1–100 instead of 0–100")})
    return out


def _names(items: list[str], limit: int) -> str:
    shown = ", ".join(items[:limit])
    more = len(items) - limit
    return shown + (_(" and {n} more").format(n=more) if more > 0 else "")


def zero_warnings(src: ScreenSources, coin: Coin, period: str) -> list[dict[str, Any]]:
    """What zeros did in ``period``: which areas' index a zero set or pulled down, which
    tie at 0 and at what rank, the indicators at zero, and the remedies."""
    rows = coin.results.xs(period, level=1, drop_level=False)
    agg = coin.spec.step("aggregate") or {}
    found, affected = scan(coin.spec, agg, coin.weights, Rows.of_frame(rows))
    if not found:
        return []
    root = coin.spec.root
    index = rows[root]
    hit = pd.Series(affected, index=rows.index)
    units = [u for u, _p in index.index[hit.to_numpy()]]
    zero = index[(index == 0) & hit]
    ranks = index.rank(ascending=False, method="min")
    indicators: dict[str, int] = {}
    for w in found:
        for code, n in w["indicators"].items():
            indicators[code] = max(indicators.get(code, 0), n)
    ordered = sorted(indicators, key=lambda c: -indicators[c])
    method = method_name("aggregation", next(
        (w["method"] for w in found if w["node"] == root), found[0]["method"]))
    if len(zero) > 1:
        head = _("{n} of {total} areas score 0 on the index in {period} whatever their other "
                 "values, and tie at rank {rank}: under the {method}, one indicator at zero "
                 "sets the whole score.").format(
            n=len(zero), total=int(index.notna().sum()), period=period,
            rank=int(ranks[zero.index].min()), method=method.lower())
    else:
        head = _("In {period}, an indicator at zero sets or pulls down the index of {n} of "
                 "{total} areas under the {method}.").format(
            period=period, n=len(units), total=int(index.notna().sum()),
            method=method.lower())
    detail = _("Indicators at zero: {indicators}. Areas: {areas}.").format(
        indicators=_names([ngettext("{name} ({n} area)", "{name} ({n} areas)",
                                    indicators[c]).format(
            name=_node_name(src.framework, c), n=indicators[c]) for c in ordered], 8),
        areas=_names([area_name(src.tree, u) for u in units], 12))
    # the remedies of the node with the lowest value (its shift lifts every other too)
    remedies = max((w["remedies"] for w in found),
                   key=lambda r: r[0]["changes"]["aggregate"]["shift"])
    return [{"kind": "zeros_decide", "title": _("Zeros decide these ranks"),
             "message": head, "detail": detail, "units": units,
             "tied": [str(u) for u, _p in zero.index], "indicators": ordered,
             "remedies": _remedy_buttons(remedies),
             "explain": _("A shift adds a constant to every score before the mean and takes "
                          "it off after; min-max onto 1–100 gives the worst value 1 instead of "
                          "0. Either keeps the mean's character and lets every indicator "
                          "count.")}]


def _negative_warning(src: ScreenSources, exc: NegativeInMean) -> dict[str, Any]:
    p = exc.problems[0].params
    return {"kind": "negative_in_mean", "title": _("No geometric mean of negative scores"),
            "message": _("{child} is {value:.3g} for {unit} in {period}: a geometric mean of "
                         "a value below zero does not exist, so there are no scores to "
                         "show.").format(child=_node_name(src.framework, p["child"]),
                                         value=p["value"], unit=area_name(src.tree, p["unit"]),
                                         period=p["period"]),
            "detail": "", "units": [p["unit"]], "tied": [], "indicators": [p["child"]],
            "remedies": _remedy_buttons(exc.params["remedies"]),
            "explain": _("Z-scores are negative below the mean; add a constant larger than "
                         "the lowest score, or use min-max onto 1–100.")}


def _effective(src: ScreenSources, a: Coin, b: Coin) -> list[dict[str, Any]]:
    ea, eb = effective_weights(a.spec, a.weights), effective_weights(b.spec, b.weights)
    return [{"code": c, "name": _node_name(src.framework, c), "published": round(ea[c], 4),
             "changed": round(eb.get(c, 0.0), 4)}
            for c in ea if c != a.spec.root and a.spec.level_of(c) == 1]


def _num(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else round(float(v), 3)


def _int(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


# --- audit, uncertainty and sensitivity of the published run -------------------------------

FLAG_LABELS = {"collinear": N_("{a} and {b} move together (r = {r:.2f})"),
               "negative": N_("{a} and {b} move against each other (r = {r:.2f})"),
               "weak": N_("{a} hardly moves with {b} (r = {r:.2f})")}


def _flag_text(src: ScreenSources, flag: dict[str, Any]) -> str:
    template = FLAG_LABELS.get(str(flag["flag"]))
    if template is None:
        return str(flag["flag"])
    return _(template).format(a=_node_name(src.framework, flag["a"]),
                              b=_node_name(src.framework, flag["b"]), r=float(flag["r"]))


def _simulation_remedies() -> list[dict[str, Any]]:
    return _remedy_buttons([{"kind": k, "changes": remedy_changes(k)}
                            for k in ("shift", "rescale")])


def _zero_note(replications: int, hit: int, units: list[str]) -> dict[str, Any] | None:
    if not hit or not units:
        return None
    return {"kind": "zeros_in_simulations", "title": _("Zeros in the simulations"),
            "message": _("In {hit} of {n} simulations, the geometric mean let an indicator at "
                         "zero set or pull down the index. The intervals of these areas carry "
                         "that artefact (share of simulations): {areas}.").format(
                hit=hit, n=replications, areas=_names(units, 12)),
            "remedies": _simulation_remedies()}


def analysis(actor: Actor, src: ScreenSources, level: str, key: str | None,
             remedy: Remedy | None = None) -> dict[str, Any]:
    """Audit (correlation flags, Cronbach's alpha) and Monte Carlo rank intervals as charts,
    with a note when zeros under the geometric mean shaped the intervals; ``remedy`` applies
    a remedy to every simulation."""
    require(actor, "screens.workbench")
    sys = system_actor("screens")
    aud = cached(("audit", key, level), lambda: audit_for(src.runtime, sys, level=level))
    # without a remedy the key is the area profiles' (screens.profile.rank_block): one run
    unc_key = ("unc", key, level) if remedy is None else ("unc", key, level, remedy)
    unc = cached(unc_key, lambda: uncertainty_for(src.runtime, sys, level=level,
                                                  remedy=remedy))
    period = str(unc["period"].max()) if not unc.empty else None
    cur = unc[unc["period"] == period].sort_values("nominal") if period else unc
    names = [area_name(src.tree, u) for u in cur["unit"]]
    hit_units = [f"{area_name(src.tree, u)} {z:.0%}" for u, z in sorted(
        zip(cur["unit"], cur["zero_share"], strict=True), key=lambda uz: -uz[1]) if z > 0]
    interval = {
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "grid": {"containLabel": True, "left": 16, "right": 16, "bottom": 8},
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
    note = _zero_note(int(unc.attrs.get("replications", 0)),
                      int(unc.attrs.get("zero_replications", 0)), hit_units)
    label = next((r["label"] for r in _simulation_remedies() if r["kind"] == remedy), None)
    return {"ok": True, "level": level, "period": period, "remedy": remedy,
            "remedy_label": label,
            "flags": [{**f, "text": _flag_text(src, f)} for f in aud["flags"]],
            "groups": aud["groups"], "uncertainty": cur.replace({np.nan: None}).to_dict("records"),
            "zeros": note, "options": {"uncertainty": interval}}


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
    for step in ("impute", "normalise", "aggregate", "weights"):
        if step in changes:
            index[step] = None if changes[step] is None else deep_merge(
                dict(index.get(step) or {}), changes[step])
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


def sensitivity(actor: Actor, src: ScreenSources, level: str, key: str | None,
                remedy: Remedy | None = None) -> dict[str, Any]:
    """First- and total-order Sobol indices of the areas' ranks with respect to the weights
    (±25 %), the aggregation and the normalisation, with 5–95 % bootstrap intervals; computed
    once per index run, level and remedy (``SENSITIVITY_N`` × (k + 2) replications)."""
    require(actor, "screens.workbench")
    coin = baseline(src, level, key)
    table, params = cached(("sobol", key, level, remedy), lambda: sobol(
        coin, SENSITIVITY_FACTORS, n=SENSITIVITY_N, seed=1, n_boot=100,
        base=remedy_changes(remedy)))
    names = {"weights": _("Weights"), "aggregation": _("Aggregation"),
             "normalisation": _("Normalisation")}
    labels = [names.get(f, f) for f in table["factor"]]
    option = charts.bars(labels, [
        {"name": _("First-order index"), "values": [round(float(v), 3) for v in table["first"]]},
        {"name": _("Total-order index"), "values": [round(float(v), 3) for v in table["total"]]},
    ])
    hit = int((params["zeros_decide"] > 0).sum())
    return {"ok": True, "level": level, "replications": len(params), "remedy": remedy,
            "zero_replications": hit,
            "indices": table.round(4).replace({np.nan: None}).to_dict("records"),
            "option": option}
