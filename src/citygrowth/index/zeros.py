"""Zeros, and values below zero, under means that one zero sends to zero.

Under a geometric or a harmonic mean (and a generalised mean with p ≤ 0) a child at 0 makes
the node 0 whatever its other children are. Min-max normalisation puts the worst unit of
every indicator at exactly 0 (goalposts clip to 0 too), so with many indicators most units
score 0 and tie: on the demo district, geometric means over min-max scores leave 17 of 22
streets at 0, all at rank 6. :func:`check` finds this before it decides a rank: a warning per
node names the units, the children at zero or below and, at the bottom, the indicators, and
offers the documented remedies (:func:`remedies`):

* ``shift`` — ``aggregate: {zeros: shift, shift: s}``: add s to every child, take the mean,
  subtract s again (s = 1, or what lifts the lowest value to 1);
* ``rescale`` — ``normalise: {method: minmax, range: [1, 100]}``: min-max onto [1, 100], so
  the worst value is 1, not 0.

A geometric mean of a value below zero does not exist: :func:`check` raises
:class:`NegativeInMean`, naming node, unit, period and child, with the same remedies.
The coin and the dense path both call :func:`check` on their results, so they warn alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from citygrowth.errors import Problem, ValidationFailed
from citygrowth.i18n import _
from citygrowth.index.aggregate import node_config, sensitive, zeros_rule
from citygrowth.index.names import method_name
from citygrowth.index.spec import IndexSpec

NAMED_UNITS = 50  # a warning lists at most this many units by code (all are counted)


class NegativeInMean(ValidationFailed):
    code = "negative_in_mean"
    message = "A geometric mean of values below zero does not exist."


@dataclass(frozen=True)
class Rows:
    """Results to check: one row per unit and period, and each code's values by row."""

    units: np.ndarray
    periods: np.ndarray
    values: Callable[[str], np.ndarray]

    @classmethod
    def of_frame(cls, wide: pd.DataFrame) -> Rows:
        """From a wide frame indexed by (unit, period), one column per code."""
        values = wide.to_numpy(dtype=float)
        pos = {c: j for j, c in enumerate(wide.columns)}
        return cls(np.asarray(wide.index.get_level_values(0)).astype(str),
                   np.asarray(wide.index.get_level_values(1)).astype(str),
                   lambda code: values[:, pos[code]])


def remedies(lowest: float) -> list[dict[str, Any]]:
    """The two documented remedies, as settings changes (``lowest``: the lowest child)."""
    shift = 1.0 if lowest >= 0 else float(np.ceil(1.0 - lowest))
    return [{"kind": "shift", "changes": {"aggregate": {"zeros": "shift", "shift": shift}}},
            {"kind": "rescale",
             "changes": {"normalise": {"method": "minmax", "range": [1, 100]}}}]


def _causes(spec: IndexSpec, rows: Rows, kid: str, hit: np.ndarray,
            causes: Mapping[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The indicators at zero or below behind a child that is at zero or below."""
    if spec.nodes[kid].is_indicator:
        return {kid: hit}
    if kid in causes:
        return {i: m & hit for i, m in causes[kid].items()}
    return {i: hit & (rows.values(i) <= 0) for i in spec.indicators_under(kid)}


def _negative(code: str, kids: list[str], x: np.ndarray, raw: np.ndarray, w: np.ndarray,
              rows: Rows, lowest: float) -> NegativeInMean:
    """The error for a geometric mean of a value below zero (``x`` after the zeros rule,
    ``raw`` before it: the score people see)."""
    r, j = (int(v[0]) for v in np.nonzero((x < 0) & (w > 0)))
    return NegativeInMean(problems=[Problem(
        message="Node {node}: {child} is {value:.4g} for {unit} in {period}; add a constant "
                "first (zeros: shift, shift: {shift:g}) or normalise min-max onto [1, 100].",
        params={"node": code, "child": kids[j], "value": float(raw[r, j]),
                "unit": str(rows.units[r]), "period": str(rows.periods[r]),
                "shift": remedies(lowest)[0]["changes"]["aggregate"]["shift"]})],
        remedies=remedies(lowest))


def needed(spec: IndexSpec, settings: Mapping[str, Any]) -> bool:
    """Whether any node of the spec takes a zero-sensitive mean (else there is nothing to
    check, and no rows need building)."""
    return any(sensitive(node_config(settings, spec, code))
               for level in spec.levels() for code in level)


def check(spec: IndexSpec, settings: Mapping[str, Any], weights: Mapping[str, float],
          rows: Rows) -> list[dict[str, Any]]:
    """One warning per zero-sensitive node where a child at zero or below sets the value of
    some unit-periods (see the module doc); raises :class:`NegativeInMean` for a geometric
    mean of a negative value."""
    return scan(spec, settings, weights, rows)[0]


def scan(spec: IndexSpec, settings: Mapping[str, Any], weights: Mapping[str, float],
         rows: Rows) -> tuple[list[dict[str, Any]], np.ndarray]:
    """:func:`check`'s warnings, and which rows' index (the root) a zero set or pulled down:
    rows where a zero-sensitive node at or below the root met a child at zero or below."""
    out: list[dict[str, Any]] = []
    causes: dict[str, dict[str, np.ndarray]] = {}
    affected: dict[str, np.ndarray] = {}
    for level in spec.levels():
        for code in level:
            kids = spec.nodes[code].children
            below = [affected[k] for k in kids if k in affected]
            cfg = node_config(settings, spec, code)
            hit = _hit(code, cfg, kids, spec, weights, rows, causes, out) if sensitive(cfg) \
                else None
            marks = below + ([hit] if hit is not None else [])
            if marks:
                affected[code] = np.logical_or.reduce(marks)
    return out, affected.get(spec.root, np.zeros(len(rows.units), bool))


def _hit(code: str, cfg: Mapping[str, Any], kids: list[str], spec: IndexSpec,
         weights: Mapping[str, float], rows: Rows,
         causes: dict[str, dict[str, np.ndarray]], out: list[dict[str, Any]]
         ) -> np.ndarray | None:
    """The rows of one zero-sensitive node set by a child at zero or below (None: none)."""
    raw = np.column_stack([rows.values(k) for k in kids])
    w = np.array([float(weights.get(k, spec.nodes[k].weight)) for k in kids])
    x, _shift = zeros_rule(raw, cfg)
    with np.errstate(invalid="ignore"):
        low = (x <= 0) & (w > 0) & ~np.isnan(x)
    hit = low.any(axis=1)
    if not hit.any():
        return None
    lowest = float(np.nanmin(np.where(low, raw, np.nan)))
    if cfg.get("method") == "geometric" and np.any(low & (x < 0)):
        # the shift offered lifts every indicator to 1 at least, so each mean above is ≥ 1
        floor = min([lowest, *(float(np.nanmin(rows.values(i), initial=np.inf))
                               for i in spec.indicators)])
        raise _negative(code, kids, x, raw, w, rows, floor)
    found: dict[str, np.ndarray] = {}
    for j, kid in enumerate(kids):
        for ind, mask in _causes(spec, rows, kid, low[:, j], causes).items():
            found[ind] = found.get(ind, np.zeros(len(hit), bool)) | mask
    causes[code] = found
    out.append(_warning(code, cfg, kids, low, hit, rows, found, lowest, raw))
    return np.asarray(hit)


def _warning(code: str, cfg: Mapping[str, Any], kids: list[str], low: np.ndarray,
             hit: np.ndarray, rows: Rows, found: Mapping[str, np.ndarray], lowest: float,
             raw: np.ndarray) -> dict[str, Any]:
    units = sorted(set(rows.units[hit].tolist()))
    present = ~np.isnan(raw).all(axis=1)
    return {
        "kind": "zeros_decide", "node": code, "method": str(cfg.get("method")),
        "zeros": str(cfg.get("zeros", "propagate")),
        "rows": int(hit.sum()), "of": int(present.sum()),
        "units": units[:NAMED_UNITS], "n_units": len(units),
        "periods": sorted(set(rows.periods[hit].tolist())),
        "children": {k: int(low[:, j].sum()) for j, k in enumerate(kids) if low[:, j].any()},
        "indicators": {i: int(m.sum()) for i, m in sorted(
            found.items(), key=lambda kv: -int(kv[1].sum())) if m.any()},
        "negative": bool(lowest < 0),
        "remedies": remedies(lowest),
    }


def describe(warning: Mapping[str, Any], name: Callable[[str], str] = str) -> str:
    """One warning as a sentence in the current language; ``name`` turns codes into names."""
    shift = warning["remedies"][0]["changes"]["aggregate"]["shift"]
    indicators = ", ".join(f"{name(i)} ({n})" for i, n in list(
        warning["indicators"].items())[:8]) or ", ".join(name(c) for c in warning["children"])
    return _("{method} of {node}: {rows} of {of} unit-periods have a child at zero or below, "
             "so it sets their score whatever their other values ({indicators}). Remedies: "
             "add a constant first (aggregate.zeros=shift, shift={shift:g}) or min-max onto "
             "[1, 100] (normalise.range=[1,100]).").format(
        method=method_name("aggregation", warning["method"]), node=name(warning["node"]),
        rows=warning["rows"], of=warning["of"], indicators=indicators, shift=shift)
