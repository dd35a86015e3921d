"""The index specification: a framework tree plus the settings of every step.

A framework is a tree of nodes: indicators are the leaves, aggregates (sub-pillars, pillars,
the index) the inner nodes. Each node has a ``weight`` relative to its siblings and each
indicator a ``direction`` (1: more is better, -1: less is better) and optionally goalposts.

It is read from the catalog's framework YAML (``citygrowth.catalog`` format: nested nodes with
``code`` and children under ``children`` / ``pillars`` / ``sub_pillars`` / ``indicators``, or a
flat ``nodes:`` list with ``parent``). The index engine's own settings live in an ``index:``
section of the same file (see docs/index-engine.md); the catalog loader ignores that section.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from citygrowth.catalog.framework import Framework, Indicator
from citygrowth.errors import Problem, ValidationFailed

CHILD_KEYS = ("children", "pillars", "sub_pillars", "subpillars", "indicators", "nodes")

# The steps of a run, in order, and the stage each writes.
STEPS: tuple[tuple[str, str], ...] = (
    ("denominate", "Denominated"),
    ("screen", "Screened"),
    ("impute", "Imputed"),
    ("treat", "Treated"),
    ("normalise", "Normalised"),
    ("aggregate", "Aggregated"),
)


@dataclass
class Node:
    code: str
    parent: str | None = None
    weight: float = 1.0
    direction: int = 1
    name_zh: str = ""
    name_en: str = ""
    goalposts: tuple[float, float] | None = None
    target: float | None = None
    denominator: str | None = None
    children: list[str] = field(default_factory=list)

    @property
    def is_indicator(self) -> bool:
        return not self.children


@dataclass
class IndexSpec:
    """A framework tree and the settings of each step (a deep-merged ``index:`` section)."""

    code: str
    version: str
    nodes: dict[str, Node]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> str:
        roots = [n.code for n in self.nodes.values() if n.parent is None]
        return roots[0]

    @property
    def indicators(self) -> list[str]:
        return [c for c, n in self.nodes.items() if n.is_indicator]

    def level_of(self, code: str) -> int:
        """1 for indicators, then up: a node's level is 1 + the highest level of its children."""
        node = self.nodes[code]
        if node.is_indicator:
            return 1
        return 1 + max(self.level_of(c) for c in node.children)

    def levels(self) -> list[list[str]]:
        """Aggregate nodes grouped by level (2, 3, …), in file order."""
        out: dict[int, list[str]] = {}
        for code, node in self.nodes.items():
            if not node.is_indicator:
                out.setdefault(self.level_of(code), []).append(code)
        return [out[k] for k in sorted(out)]

    def indicators_under(self, code: str) -> list[str]:
        node = self.nodes[code]
        if node.is_indicator:
            return [code]
        return [i for c in node.children for i in self.indicators_under(c)]

    def with_settings(self, changes: Mapping[str, Any]) -> IndexSpec:
        """A copy whose settings have ``changes`` deep-merged in."""
        return IndexSpec(self.code, self.version, copy.deepcopy(self.nodes),
                         deep_merge(self.settings, changes))

    def step(self, name: str) -> dict[str, Any] | None:
        value = self.settings.get(name)
        if value is None or value is False:
            return None
        return dict(value) if isinstance(value, Mapping) else {"method": value}


def deep_merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _bad(message: str, file: str | None = None, **params: Any) -> ValidationFailed:
    return ValidationFailed(
        "The index framework is not valid.",
        problems=[Problem(message=message, params=params, file=file)],
    )


def _node_from(raw: Mapping[str, Any], parent: str | None, file: str | None) -> Node:
    code = raw.get("code")
    if not isinstance(code, str) or not code:
        raise _bad("Every node needs a code.", file)
    gp = raw.get("goalposts")
    if gp is not None:
        if isinstance(gp, Mapping):
            gp = (gp.get("lo", gp.get("min")), gp.get("hi", gp.get("max")))
        if len(gp) != 2 or any(not isinstance(v, (int, float)) for v in gp) or gp[0] == gp[1]:
            raise _bad("Node {code}: goalposts must be two different numbers.", file, code=code)
        gp = (float(gp[0]), float(gp[1]))
    direction = raw.get("direction", 1)
    if isinstance(direction, str):
        direction = {"positive": 1, "negative": -1, "up": 1, "down": -1}.get(direction, 0)
    if direction not in (1, -1):
        raise _bad("Node {code}: direction must be 1 or -1.", file, code=code)
    name = raw.get("name")
    return Node(
        code=code, parent=raw.get("parent", parent), weight=float(raw.get("weight", 1.0)),
        direction=int(direction), goalposts=gp,
        name_zh=str(raw.get("name_zh") or (name.get("zh") if isinstance(name, dict) else "") or ""),
        name_en=str(raw.get("name_en") or (name.get("en") if isinstance(name, dict) else "") or ""),
        target=raw.get("target"), denominator=raw.get("denominator"),
    )


def _walk(items: Iterable[Any], parent: str | None, out: dict[str, Node],
          file: str | None) -> None:
    for raw in items:
        if not isinstance(raw, Mapping):
            raise _bad("Every node must be a mapping with a code.", file)
        node = _node_from(raw, parent, file)
        if node.code in out:
            raise _bad("Node code {code} appears twice.", file, code=node.code)
        out[node.code] = node
        for key in CHILD_KEYS:
            if isinstance(raw.get(key), list):
                _walk(raw[key], node.code, out, file)


def spec_from_dict(doc: Mapping[str, Any], file: str | None = None) -> IndexSpec:
    """Build an :class:`IndexSpec` from a parsed framework document."""
    if not isinstance(doc, Mapping):
        raise _bad("The framework file must hold a mapping.", file)
    nodes: dict[str, Node] = {}
    top = next((doc[k] for k in ("tree", *CHILD_KEYS) if isinstance(doc.get(k), list)), None)
    if top is None:
        raise _bad("The framework has no nodes (tree, pillars or nodes).", file)
    _walk(top, None, nodes, file)
    roots = [n for n in nodes.values() if n.parent is None]
    if len(roots) > 1:  # several pillars at top: add the index node above them
        root = Node(code=str(doc.get("root", doc.get("code", "INDEX"))), weight=1.0,
                    name_zh=str(doc.get("name_zh", "")), name_en=str(doc.get("name_en", "")))
        if root.code in nodes:
            root.code = "INDEX"
        for r in roots:
            r.parent = root.code
        nodes = {root.code: root, **nodes}
    for node in nodes.values():
        if node.parent is not None:
            if node.parent not in nodes:
                raise _bad("Node {code} names an unknown parent {parent}.", file,
                           code=node.code, parent=node.parent)
            nodes[node.parent].children.append(node.code)
    if not nodes:
        raise _bad("The framework has no nodes (tree, pillars or nodes).", file)
    settings = doc.get("index") or {}
    if not isinstance(settings, Mapping):
        raise _bad("The index section must be a mapping.", file)
    return IndexSpec(code=str(doc.get("code", "framework")), version=str(doc.get("version", "1")),
                     nodes=nodes, settings=dict(settings))


def load_spec(path: str | Path) -> IndexSpec:
    """Read a framework YAML file (with its optional ``index:`` section)."""
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _bad("File not found.", str(p)) from None
    except yaml.YAMLError as exc:
        raise _bad("Not valid YAML: {detail}", str(p), detail=str(exc)[:200]) from None
    return spec_from_dict(doc, str(p))


def spec_from_coinr_meta(meta: Any, code: str = "ASEM", version: str = "1") -> IndexSpec:
    """Build a spec from a COINr ``iMeta`` table (Level, iCode, Direction, Weight, Parent, Type,
    Denominator), e.g. the ASEM index."""
    nodes: dict[str, Node] = {}
    rows = meta[meta["Type"].isin(["Indicator", "Aggregate"])].sort_values(
        "Level", ascending=False, kind="stable")
    for r in rows.itertuples():
        parent = r.Parent if isinstance(r.Parent, str) and r.Parent else None
        denom = r.Denominator if isinstance(r.Denominator, str) and r.Denominator else None
        nodes[r.iCode] = Node(code=r.iCode, parent=parent, weight=float(r.Weight),
                              direction=int(r.Direction), name_en=str(r.iName),
                              denominator=denom)
    for node in nodes.values():
        if node.parent:
            nodes[node.parent].children.append(node.code)
    return IndexSpec(code=code, version=version, nodes=nodes, settings={})


# Settings for a catalog framework whose file has no ``index:`` section: panel imputation,
# goalposts where the catalog gives them (else min-max over the whole panel), arithmetic means.
DEFAULT_SETTINGS: dict[str, Any] = {
    "impute": {"method": ["linear", "locf"]},
    "normalise": {"method": "minmax", "range": [0, 100], "global": True,
                  "use_goalposts": True},
    "weights": {"method": "fixed"},
    "aggregate": {"method": "arithmetic", "min_coverage": 0.0},
}


def spec_for_framework(fw: Framework) -> IndexSpec:
    """The spec of a catalog framework (``runtime.frameworks.load(...)``): its tree, weights,
    directions, goalposts and targets, plus the ``index:`` section of its file (or
    :data:`DEFAULT_SETTINGS`)."""
    nodes: dict[str, Node] = {}
    for n in fw.nodes:
        node = Node(code=n.code, parent=n.parent, weight=float(n.weight), name_zh=n.name_zh,
                    name_en=n.name_en)
        if isinstance(n, Indicator):
            node.direction = int(n.direction)
            node.target = n.target
            if n.goalposts is not None:
                node.goalposts = (float(n.goalposts.lo), float(n.goalposts.hi))
        nodes[n.code] = node
    for node in nodes.values():
        if node.parent is not None:
            nodes[node.parent].children.append(node.code)
    # nodes with no indicator below (empty branches) cannot be computed
    empty = [c for c, n in nodes.items() if n.is_indicator and c not in
             {i.code for i in fw.indicators if not i.supporting}]
    for code in empty:
        parent = nodes.pop(code).parent
        if parent:
            nodes[parent].children.remove(code)
    settings: Any = DEFAULT_SETTINGS
    if fw.path:
        path = Path(fw.path)
        settings = _index_section(str(path), path.stat().st_mtime_ns) or DEFAULT_SETTINGS
    return IndexSpec(code=fw.code, version=fw.version, nodes=nodes, settings=dict(settings))


@lru_cache(maxsize=16)
def _index_section(path: str, _mtime: int) -> dict[str, Any] | None:
    """The ``index:`` section of a framework file, read once per file version."""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    section = doc.get("index")
    return dict(section) if section else None
