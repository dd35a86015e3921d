"""The area tree in memory, and roll-ups of values up the tree.

:class:`AreaTree` holds every area's parent, level, population and children (loaded once with
:meth:`AreaTree.load`). :func:`rollup` aggregates a pandas DataFrame of values per area to a
coarser level. It is vectorised: an area's ancestor at a level is the prefix of its code
(codes nest by prefix), so the roll-up is one ``groupby`` on a sliced code column.

Input frame columns:

* ``area_code`` (str) and ``value`` (float) — always;
* ``weight`` — optional, for ``population_weighted_mean`` (default: the area's population
  from the tree);
* ``numerator`` and ``denominator`` — for ``ratio_of_sums`` (``value`` is then ignored);
* any columns named in ``by`` (e.g. ``period``, ``indicator``) — kept as group keys.

Rules:

* ``sum`` — Σ value (NaN when every value of a group is missing);
* ``mean`` — unweighted mean of the values present;
* ``population_weighted_mean`` — Σ(value·w) / Σ w over rows with a value and a weight;
* ``ratio_of_sums`` — Σ numerator / Σ denominator (NaN when Σ denominator is 0).

The result has ``by`` columns, ``area_code``, ``value``, ``count`` (rows that contributed)
and, when a tree is given, ``expected`` (how many areas of the input level lie under the
target area) so callers can see partial coverage.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citygrowth.areas.models import CODE_LENGTH, LEVEL_OF_LENGTH, LEVELS, Area
from citygrowth.errors import Problem, ValidationFailed
from citygrowth.i18n import N_

Rule = Literal["sum", "mean", "population_weighted_mean", "ratio_of_sums"]
RULES: tuple[str, ...] = ("sum", "mean", "population_weighted_mean", "ratio_of_sums")

MSG_RULE = N_("Unknown roll-up rule {rule!r}; use sum, mean, population_weighted_mean or "
              "ratio_of_sums.")
MSG_LEVEL = N_("Unknown level {level!r}; use one of district, street, community, grid.")
MSG_COLUMN = N_("The data has no {column} column, which the rule {rule} needs.")
MSG_MIXED = N_("The rows to roll up must all be at one level; found {levels}.")
MSG_COARSER = N_("Rows at level {level} cannot be rolled up to the finer level {target}.")
MSG_CODES = N_("Some area codes are malformed, e.g. {example!r}.")
MSG_NO_WEIGHT = N_("population_weighted_mean needs a weight column or an area tree.")


@dataclass
class AreaTree:
    """Parent map, levels, populations and children of every stored area."""

    parent: dict[str, str | None] = field(default_factory=dict)
    level: dict[str, str] = field(default_factory=dict)
    population: dict[str, int | None] = field(default_factory=dict)
    name_zh: dict[str, str] = field(default_factory=dict)
    name_en: dict[str, str] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    centroid: dict[str, tuple[float, float]] = field(default_factory=dict)  # (lon, lat)

    @classmethod
    def from_areas(cls, areas: Iterable[Area]) -> AreaTree:
        tree = cls()
        for a in sorted(areas, key=lambda a: a.code):
            tree.parent[a.code] = a.parent_code
            tree.level[a.code] = a.level
            tree.population[a.code] = a.population
            tree.name_zh[a.code] = a.name_zh
            tree.name_en[a.code] = a.name_en
            tree.children.setdefault(a.code, [])
            if a.centroid_lon is not None and a.centroid_lat is not None:
                tree.centroid[a.code] = (a.centroid_lon, a.centroid_lat)
            if a.parent_code:
                tree.children.setdefault(a.parent_code, []).append(a.code)
        return tree

    @classmethod
    def load(cls, session: Session) -> AreaTree:
        """Every stored area (unscoped: callers filter what they show)."""
        return cls.from_areas(session.scalars(select(Area)))

    def __contains__(self, code: object) -> bool:
        return code in self.level

    def __len__(self) -> int:
        return len(self.level)

    def codes(self, level: str | None = None) -> list[str]:
        return [c for c, lv in self.level.items() if level is None or lv == level]

    def ancestors(self, code: str) -> list[str]:
        """Enclosing areas, nearest first."""
        out, p = [], self.parent.get(code)
        while p is not None:
            out.append(p)
            p = self.parent.get(p)
        return out

    def descendants(self, code: str, level: str | None = None) -> list[str]:
        """Every area under ``code`` (optionally only those at ``level``), in code order."""
        out: list[str] = []
        stack = list(reversed(self.children.get(code, [])))
        while stack:
            c = stack.pop()
            if level is None or self.level.get(c) == level:
                out.append(c)
            stack.extend(reversed(self.children.get(c, [])))
        return out

    def population_frame(self) -> pd.DataFrame:
        """``area_code, level, population`` of every area (for joins)."""
        return pd.DataFrame({
            "area_code": list(self.level),
            "level": list(self.level.values()),
            "population": [self.population[c] for c in self.level],
        })


def _check(frame: pd.DataFrame, rule: str, to_level: str, tree: AreaTree | None) -> int:
    if rule not in RULES:
        raise ValidationFailed(problems=[Problem(MSG_RULE, {"rule": rule}, field="rule")])
    if to_level not in LEVELS:
        raise ValidationFailed(problems=[Problem(MSG_LEVEL, {"level": to_level},
                                                 field="to_level")])
    needed = ["area_code"] + (["numerator", "denominator"] if rule == "ratio_of_sums"
                              else ["value"])
    for column in needed:
        if column not in frame.columns:
            raise ValidationFailed(problems=[Problem(MSG_COLUMN, {"column": column,
                                                                 "rule": rule}, field=column)])
    if rule == "population_weighted_mean" and "weight" not in frame.columns and tree is None:
        raise ValidationFailed(problems=[Problem(MSG_NO_WEIGHT, field="weight")])
    lengths = frame["area_code"].astype(str).str.len().unique().tolist()
    bad = [n for n in lengths if n not in LEVEL_OF_LENGTH]
    if bad:
        example = frame["area_code"].astype(str)[frame["area_code"].astype(str).str.len()
                                                  == bad[0]].iloc[0]
        raise ValidationFailed(problems=[Problem(MSG_CODES, {"example": example},
                                                 field="area_code")])
    if len(lengths) > 1:
        levels = ", ".join(LEVEL_OF_LENGTH[n] for n in sorted(lengths))
        raise ValidationFailed(problems=[Problem(MSG_MIXED, {"levels": levels},
                                                 field="area_code")])
    source_len = int(lengths[0]) if lengths else CODE_LENGTH[to_level]
    if source_len < CODE_LENGTH[to_level]:
        raise ValidationFailed(problems=[Problem(MSG_COARSER, {
            "level": LEVEL_OF_LENGTH[source_len], "target": to_level}, field="to_level")])
    return source_len


def rollup(frame: pd.DataFrame, rule: Rule | str, to_level: str,
           tree: AreaTree | None = None, by: Sequence[str] = ()) -> pd.DataFrame:
    """Aggregate per-area values to ``to_level`` with ``rule`` (see the module doc).

    Example: ``rollup(df, "population_weighted_mean", "street", tree=AreaTree.load(s))``.
    """
    source_len = _check(frame, rule, to_level, tree)
    keys = [*by, "area_code"]
    df = frame.copy()
    df["area_code"] = df["area_code"].astype(str).str.slice(0, CODE_LENGTH[to_level])
    if rule == "ratio_of_sums":
        df["_a"] = pd.to_numeric(df["numerator"], errors="coerce").astype(float)
        df["_b"] = pd.to_numeric(df["denominator"], errors="coerce").astype(float)
        ok = df["_a"].notna() & df["_b"].notna()
        df.loc[~ok, ["_a", "_b"]] = np.nan
    else:
        df["_v"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    if rule == "population_weighted_mean":
        if "weight" in df.columns:
            w = pd.to_numeric(df["weight"], errors="coerce").astype(float)
        else:
            assert tree is not None
            pops = {c: (float(p) if p is not None else np.nan)
                    for c, p in tree.population.items()}
            w = frame["area_code"].astype(str).map(pops).astype(float)
        ok = df["_v"].notna() & w.notna()
        df["_wv"] = (df["_v"] * w).where(ok)
        df["_w"] = w.where(ok)
    grouped = df.groupby(keys, sort=True, dropna=False)
    if rule == "sum":
        out = grouped.agg(value=("_v", lambda s: s.sum(min_count=1)), count=("_v", "count"))
    elif rule == "mean":
        out = grouped.agg(value=("_v", "mean"), count=("_v", "count"))
    elif rule == "population_weighted_mean":
        out = grouped.agg(_wv=("_wv", lambda s: s.sum(min_count=1)),
                          _w=("_w", lambda s: s.sum(min_count=1)), count=("_w", "count"))
        out["value"] = out["_wv"] / out["_w"].where(out["_w"] != 0)
        out = out[["value", "count"]]
    else:
        out = grouped.agg(_a=("_a", lambda s: s.sum(min_count=1)),
                          _b=("_b", lambda s: s.sum(min_count=1)), count=("_a", "count"))
        out["value"] = out["_a"] / out["_b"].where(out["_b"] != 0)
        out = out[["value", "count"]]
    out = out.reset_index()
    out["count"] = out["count"].astype("int64")
    if tree is not None:
        source_level = LEVEL_OF_LENGTH[source_len]
        expected = {c: (len(tree.descendants(c, source_level)) if source_level != to_level
                        else 1) for c in out["area_code"].unique()}
        out["expected"] = out["area_code"].map(expected).astype("int64")
    return out


def rollup_all(frame: pd.DataFrame, rule: Rule | str, tree: AreaTree | None = None,
               by: Sequence[str] = ()) -> pd.DataFrame:
    """Roll ``frame`` up to every coarser level at once, with a ``level`` column.

    The input level itself is included unchanged (``count`` 1), so the answer has one row per
    area of the input level and of every level above it.
    """
    source_len = _check(frame, rule, "district", tree)
    parts = []
    for level in LEVELS:
        if CODE_LENGTH[level] <= source_len:
            part = rollup(frame, rule, level, tree, by)
            part.insert(0, "level", level)
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


# --- one tree per app -------------------------------------------------------------------------

_lock = threading.Lock()


def cached_tree(state: Any, session: Session) -> AreaTree:
    """The app's area tree (kept on ``state``, the app's state), reloaded only when the
    areas table changes (its row count or newest ``updated_at``): a dashboard or a list
    costs one small query instead of reading every area."""
    stamp = session.execute(select(func.count(Area.code), func.max(Area.updated_at))).one()
    key = (stamp[0], str(stamp[1]))
    with _lock:
        cached = getattr(state, "area_tree", None)
        if cached is not None and cached[0] == key:
            tree: AreaTree = cached[1]
            return tree
    tree = AreaTree.load(session)
    with _lock:
        state.area_tree = (key, tree)
    return tree
