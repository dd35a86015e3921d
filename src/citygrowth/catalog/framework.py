"""Indicator frameworks: the City Growth Index tree read from a YAML file.

Which file is the district's framework, and which others plugins offer, is the runtime's
:class:`~citygrowth.catalog.registry.FrameworkRegistry` (``runtime.frameworks.load("default")``);
this module parses a file. The file format is documented in ``docs/framework-format.md``.

The tree is a flat tuple of :class:`Node` (the index, pillars, sub-pillars) and
:class:`Indicator` (leaves), each naming its ``parent``; ``Framework.supporting`` holds
indicators that are stored and rolled up but not part of the index (weight 0, parent None),
such as the counts behind a ratio.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from citygrowth.areas.models import LEVELS
from citygrowth.catalog.units import BUILTIN, UnitCatalog, UnitError, declare_units
from citygrowth.errors import NotFound, Problem, ValidationFailed
from citygrowth.i18n import N_

FRAMEWORK_DIR = Path(__file__).parent / "frameworks"
DEFAULT_FILE = FRAMEWORK_DIR / "city_growth_index.yaml"
ROLLUP_RULES = ("sum", "mean", "population_weighted_mean", "ratio_of_sums")
FREQUENCIES = ("A", "Q", "M")
NodeKind = Literal["index", "pillar", "subpillar", "indicator"]


@dataclass(frozen=True)
class Rollup:
    """How an indicator's values combine up the area tree."""

    rule: str
    numerator: str | None = None
    denominator: str | None = None
    scale: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule}
        if self.rule == "ratio_of_sums":
            out.update(numerator=self.numerator, denominator=self.denominator, scale=self.scale)
        return out


@dataclass(frozen=True)
class Goalposts:
    lo: float
    hi: float


@dataclass(frozen=True, kw_only=True)
class Node:
    """A node of the tree. ``level`` is its depth: 0 index, 1 pillar, 2 sub-pillar, 3 indicator.
    ``weight`` is relative among siblings (the index engine normalises)."""

    code: str
    name_zh: str
    name_en: str
    level: int
    parent: str | None
    weight: float
    kind: NodeKind
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code, "name_zh": self.name_zh, "name_en": self.name_en,
            "level": self.level, "parent": self.parent, "weight": self.weight,
            "kind": self.kind, "description": self.description,
        }


@dataclass(frozen=True, kw_only=True)
class Indicator(Node):
    """A leaf: something measured and stored as observations."""

    unit: str
    direction: int
    department: str
    frequency: str
    finest_level: str
    rollup: Rollup
    source: str
    citation: str
    ref: str = ""
    target: float | None = None
    goalposts: Goalposts | None = None
    supporting: bool = False

    @property
    def department_code(self) -> str:
        """For ``require``: an indicator is scoped to its department."""
        return self.department

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        out.update(
            unit=self.unit, direction=self.direction, department=self.department,
            frequency=self.frequency, finest_level=self.finest_level,
            rollup=self.rollup.as_dict(), source=self.source, citation=self.citation,
            ref=self.ref, target=self.target, supporting=self.supporting,
            goalposts=None if self.goalposts is None
            else {"lo": self.goalposts.lo, "hi": self.goalposts.hi},
        )
        return out


@dataclass(frozen=True)
class Department:
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Framework:
    code: str
    version: str
    name_zh: str
    name_en: str
    nodes: tuple[Node, ...]
    supporting: tuple[Indicator, ...] = ()
    departments: tuple[Department, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    fx_rates: dict[str, float] = field(default_factory=dict)
    path: str = ""
    units: UnitCatalog = BUILTIN  # built-in units plus the file's own (``units:``)

    @property
    def root(self) -> Node:
        return self.nodes[0]

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        """Every indicator of the index tree, then the supporting ones."""
        tree = tuple(n for n in self.nodes if isinstance(n, Indicator))
        return tree + self.supporting

    @property
    def index_indicators(self) -> tuple[Indicator, ...]:
        return tuple(n for n in self.nodes if isinstance(n, Indicator))

    def node(self, code: str) -> Node:
        for n in (*self.nodes, *self.supporting):
            if n.code == code:
                return n
        raise NotFound("No indicator or node '{code}' in this framework.", code=code)

    def indicator(self, code: str) -> Indicator:
        found = self.indicator_map().get(code)
        if found is None:
            raise NotFound("No indicator '{code}' in this framework.", code=code)
        return found

    def indicator_map(self) -> dict[str, Indicator]:
        return _indicator_map(self)

    def children(self, code: str | None) -> list[Node]:
        return [n for n in self.nodes if n.parent == code]

    def walk(self) -> Iterator[Node]:
        yield from self.nodes

    def department(self, code: str) -> Department | None:
        return next((d for d in self.departments if d.code == code), None)

    def search(self, q: str | None) -> list[Indicator]:
        """Indicators whose code, Chinese or English name contains ``q`` (case-insensitive)."""
        if not q:
            return list(self.indicators)
        needle = q.strip().lower()
        return [
            i for i in self.indicators
            if needle in i.code.lower() or needle in i.name_zh.lower()
            or needle in i.name_en.lower()
        ]

    def tree(self) -> dict[str, Any]:
        """The nested tree as plain data (the JSON of ``/api/catalog/framework``)."""
        def build(node: Node) -> dict[str, Any]:
            out = node.as_dict()
            kids = self.children(node.code)
            if kids:
                out["children"] = [build(k) for k in kids]
            return out

        return {
            "code": self.code, "version": self.version, "name_zh": self.name_zh,
            "name_en": self.name_en, "tree": build(self.root),
            "supporting": [i.as_dict() for i in self.supporting],
            "departments": [d.__dict__ for d in self.departments],
            "sources": self.sources,
        }

    def __hash__(self) -> int:
        return hash((self.code, self.version, self.path))


@lru_cache(maxsize=16)
def _indicator_map(fw: Framework) -> dict[str, Indicator]:
    return {i.code: i for i in fw.indicators}


# --- reading ----------------------------------------------------------------------------------


def load_framework_file(path: Path) -> Framework:
    """The framework in ``path`` (read once per file version: cached by path and mtime)."""
    return _load_cached(str(path.resolve()), path.stat().st_mtime_ns)


def builtin_framework() -> Framework:
    """The City Growth Index shipped with citygrowth (``frameworks/city_growth_index.yaml``)."""
    return load_framework_file(DEFAULT_FILE)


def peek_code(path: Path) -> str | None:
    """The ``code:`` line of a framework file, without parsing the whole file."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("code:"):
                return line.split(":", 1)[1].strip().strip("'\"")
    return None


@lru_cache(maxsize=16)
def _load_cached(path: str, _mtime: int) -> Framework:
    with open(path, encoding="utf-8") as fh:  # libyaml's loader when present: 10× faster
        data = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    return parse_framework(data, path=path)


def parse_framework(data: dict[str, Any], path: str = "") -> Framework:
    """Build a :class:`Framework` from the file's data; every mistake is named in one error."""
    units, problems = declare_units(data.get("units"), Path(path).name or None)
    sources = {str(k): str(v) for k, v in (data.get("sources") or {}).items()}
    root = Node(
        code=str(data.get("code", "")), name_zh=str(data.get("name_zh", "")),
        name_en=str(data.get("name_en", "")), level=0, parent=None, weight=1.0, kind="index",
        description=str(data.get("description", "")),
    )
    nodes: list[Node] = [root]
    for pillar in data.get("pillars") or []:
        nodes.extend(_branch(pillar, root.code, 1, sources, problems, path))
    supporting = tuple(
        ind for spec in data.get("supporting") or []
        if (ind := _indicator(spec, None, 3, sources, problems, path, supporting=True))
    )
    depts = tuple(
        Department(str(d["code"]), str(d.get("name_zh", d["code"])), str(d.get("name_en", "")))
        for d in data.get("departments") or []
    )
    fw = Framework(
        code=root.code, version=str(data.get("version", "")), name_zh=root.name_zh,
        name_en=root.name_en, nodes=tuple(nodes), supporting=supporting, departments=depts,
        sources=sources, fx_rates={str(k): float(v) for k, v in (data.get("fx_rates") or {}
                                                                 ).items()},
        path=path, units=units,
    )
    problems.extend(_check(fw, path))
    if problems:
        raise ValidationFailed(
            "The indicator framework {file} has {n} problems.", problems=problems,
            code="bad_framework", file=Path(path).name, n=len(problems),
        )
    return fw


def _branch(spec: dict[str, Any], parent: str, level: int, sources: dict[str, str],
            problems: list[Problem], path: str) -> list[Node]:
    kind: NodeKind = "pillar" if level == 1 else "subpillar"
    node = Node(
        code=str(spec["code"]), name_zh=str(spec.get("name_zh", "")),
        name_en=str(spec.get("name_en", "")), level=level, parent=parent,
        weight=float(spec.get("weight", 1.0)), kind=kind,
        description=str(spec.get("description", "")),
    )
    out: list[Node] = [node]
    for child in spec.get("subpillars") or []:
        out.extend(_branch(child, node.code, level + 1, sources, problems, path))
    for ispec in spec.get("indicators") or []:
        ind = _indicator(ispec, node.code, level + 1, sources, problems, path)
        if ind is not None:
            out.append(ind)
    return out


def _indicator(spec: dict[str, Any], parent: str | None, level: int, sources: dict[str, str],
               problems: list[Problem], path: str, supporting: bool = False) -> Indicator | None:
    code = str(spec.get("code", ""))
    try:
        roll = spec.get("rollup", "sum")
        rollup = Rollup(rule=roll) if isinstance(roll, str) else Rollup(
            rule=str(roll.get("rule")), numerator=roll.get("numerator"),
            denominator=roll.get("denominator"), scale=float(roll.get("scale", 1.0)),
        )
        gp = spec.get("goalposts")
        source = str(spec.get("source", ""))
        return Indicator(
            code=code, name_zh=str(spec["name_zh"]), name_en=str(spec["name_en"]),
            level=level, parent=parent, weight=0.0 if supporting else float(
                spec.get("weight", 1.0)),
            kind="indicator", description=str(spec.get("description", "")),
            unit=str(spec["unit"]), direction=int(spec.get("direction", 1)),
            department=str(spec["department"]), frequency=str(spec["frequency"]),
            finest_level=str(spec["finest_level"]), rollup=rollup, source=source,
            citation=sources.get(source, source), ref=str(spec.get("ref", "")),
            target=None if spec.get("target") is None else float(spec["target"]),
            goalposts=None if gp is None else Goalposts(float(gp["lo"]), float(gp["hi"])),
            supporting=supporting,
        )
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(Problem(
            N_("Indicator {code} lacks or has a bad field: {detail}"), {"code": code,
                                                                    "detail": str(exc)},
            file=Path(path).name, field=code,
        ))
        return None


def _check(fw: Framework, path: str) -> Iterable[Problem]:
    name = Path(path).name
    seen: set[str] = set()
    codes = {n.code for n in fw.nodes} | {i.code for i in fw.supporting}
    for n in (*fw.nodes, *fw.supporting):
        if n.code in seen:
            yield Problem(N_("Code {code} appears twice."), {"code": n.code}, file=name,
                          field=n.code)
        seen.add(n.code)
        if not isinstance(n, Indicator):
            continue
        yield from _check_indicator(n, codes, name, fw.units)


def _check_indicator(n: Indicator, codes: set[str], name: str, units: UnitCatalog
                     ) -> Iterable[Problem]:
    def bad(what: str, value: Any) -> Problem:
        return Problem(N_("Indicator {code} has an invalid {what}: {value}"),
                       {"code": n.code, "what": what, "value": value}, file=name, field=n.code)

    try:
        units.parse(n.unit)
    except UnitError:
        yield bad("unit", n.unit)
    if n.direction not in (1, -1):
        yield bad("direction", n.direction)
    if n.frequency not in FREQUENCIES:
        yield bad("frequency", n.frequency)
    if n.finest_level not in LEVELS:
        yield bad("finest_level", n.finest_level)
    if n.rollup.rule not in ROLLUP_RULES:
        yield bad("rollup", n.rollup.rule)
    if n.rollup.rule == "ratio_of_sums" and not (
        n.rollup.numerator in codes and n.rollup.denominator in codes
    ):
        yield bad("rollup", f"{n.rollup.numerator}/{n.rollup.denominator}")
    if not n.source:
        yield bad("source", "")
