"""Explanations: why a unit's score moved, what it is good and bad at, how two runs differ.

:func:`contributions` splits the change of a node (a pillar or the index) of one unit between
two periods into one contribution per indicator, measured in the node's own units. With
arithmetic aggregation the split is exact: indicator i contributes its effective weight within
the node (weights renormalised over the values the unit has) times the change of its
normalised value. For other means (geometric, harmonic, generalised) it is the Aumann–Shapley
path integral of the node's gradient along the straight line between the two periods, which
also adds up to the change; ``residual`` reports what is left by numerical integration.
Copeland and TOPSIS depend on the other units and are not split.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from citygrowth.index.aggregate import aggregate, node_config
from citygrowth.index.coin import Coin
from citygrowth.index.spec import IndexSpec
from citygrowth.index.steps import _setting_error


def _subspec(spec: IndexSpec, code: str) -> IndexSpec:
    keep = set(_descendants(spec, code))
    nodes = {c: n for c, n in spec.nodes.items() if c in keep}
    sub = spec.with_settings({})
    sub.nodes = {c: sub.nodes[c] for c in nodes}
    sub.nodes[code].parent = None
    return sub


def _descendants(spec: IndexSpec, code: str) -> list[str]:
    return [code, *(d for c in spec.nodes[code].children for d in _descendants(spec, c))]


def _evaluate(coin: Coin, sub: IndexSpec, code: str, x: np.ndarray) -> np.ndarray:
    inds = sub.indicators
    frame = pd.DataFrame(x, columns=inds)
    frame.index = pd.MultiIndex.from_arrays([np.arange(len(x)), ["p"] * len(x)])
    cfg = coin.spec.step("aggregate") or {"method": "arithmetic"}
    out, _ = aggregate(frame, sub, coin.weights, **cfg)
    return np.asarray(out[code].to_numpy())


def contributions(coin: Coin, unit: str, start: str, end: str, code: str | None = None,
                  steps: int = 64) -> pd.DataFrame:
    """Each indicator's contribution to the change of ``code`` (default: the index) for
    ``unit`` from period ``start`` to ``end``. Columns: indicator, start, end, change,
    contribution; the attribute ``residual`` holds change − Σ contributions."""
    code = code or coin.spec.root
    if code not in coin.spec.nodes or coin.spec.nodes[code].is_indicator:
        raise _setting_error("Unknown aggregate {code}.", code=code)
    res = coin.results
    try:
        r0, r1 = res.loc[(unit, start)], res.loc[(unit, end)]
    except KeyError:
        raise _setting_error("No results for {unit} in {start} and {end}.", unit=unit,
                             start=start, end=end) from None
    sub = _subspec(coin.spec, code)
    for c in sub.nodes:
        if not sub.nodes[c].is_indicator:
            method = node_config(coin.spec.step("aggregate") or {}, coin.spec, c).get("method")
            if method in ("copeland", "topsis"):
                raise _setting_error("Contributions cannot be split under {method}.",
                                     method=method)
    inds = sub.indicators
    x0 = r0[inds].to_numpy(dtype=float)
    x1 = r1[inds].to_numpy(dtype=float)
    both = ~(np.isnan(x0) | np.isnan(x1))
    dx = np.where(both, x1 - x0, 0.0)
    t = (np.arange(steps) + 0.5) / steps
    h = 1e-6 * max(1.0, float(np.nanmax(np.abs(np.concatenate([x0, x1])))))
    grads = np.zeros(len(inds))
    for i in np.flatnonzero(both):
        pts = x0[None, :] + t[:, None] * dx[None, :]
        up, down = pts.copy(), pts.copy()
        up[:, i] += h
        down[:, i] -= h
        g = (_evaluate(coin, sub, code, up) - _evaluate(coin, sub, code, down)) / (2 * h)
        grads[i] = np.mean(g)
    contrib = grads * dx
    out = pd.DataFrame({"indicator": inds, "start": x0, "end": x1, "change": x1 - x0,
                        "contribution": contrib})
    out.attrs["node_change"] = float(r1[code] - r0[code])
    out.attrs["residual"] = float(r1[code] - r0[code] - contrib.sum())
    return out.sort_values("contribution", key=np.abs, ascending=False, ignore_index=True)


def strengths_weaknesses(coin: Coin, unit: str, period: str, n: int = 5) -> dict[str, list[Any]]:
    """The ``n`` indicators on which ``unit`` ranks best and worst among the units of
    ``period`` (ranks on the normalised values, 1 = best)."""
    norm = coin.stage("Normalised")
    try:
        block = norm.xs(period, level=1)
    except KeyError:
        raise _setting_error("No data for period {period}.", period=period) from None
    if unit not in block.index:
        raise _setting_error("Unknown unit {unit}.", unit=unit)
    ranks = block.rank(ascending=False, method="min")
    row = ranks.loc[unit].dropna().sort_values(kind="stable")
    raw = coin.stage("Raw").xs(period, level=1).loc[unit]

    def item(c: str) -> dict[str, object]:
        return {"indicator": c, "rank": int(row[c]), "of": int(block[c].notna().sum()),
                "value": None if pd.isna(raw.get(c)) else float(raw[c]),
                "score": float(block.loc[unit, c])}

    return {"strengths": [item(c) for c in row.index[:n]],
            "weaknesses": [item(c) for c in row.index[::-1][:n]]}


def compare_runs(a: Coin, b: Coin, code: str | None = None) -> pd.DataFrame:
    """Scores and ranks of ``code`` (default: the index) in two runs, side by side."""
    code = code or a.spec.root
    out = pd.DataFrame({"value_a": a.results[code], "value_b": b.results[code],
                        "rank_a": a.ranks(code)[code], "rank_b": b.ranks(code)[code]})
    out["rank_change"] = out["rank_b"] - out["rank_a"]
    return out.reset_index()
