"""The coin: a framework over units × periods, with every stage of a run kept by name.

``Coin.build(spec, raw, groups=..., denominators=...)`` runs the steps named in the spec's
settings in order — Denominated, Screened, Imputed, Treated, Normalised, Aggregated — each
writing a new stage and logging the settings it used. ``coin.regen(changes)`` replays the run
with some settings changed (COINr's ``Regen``); ``coin.stage(name)`` and
``coin.long(name)`` give any stage, wide or long.

Data are wide: a DataFrame indexed by (unit, period) (periods are strings) with one float
column per indicator (and, in the Aggregated stage, per aggregate node).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from citygrowth.index import aggregate as agg
from citygrowth.index import normalise as norm
from citygrowth.index import steps, zeros
from citygrowth.index.spec import IndexSpec
from citygrowth.index.weights import DATA_DRIVEN, effective_weights, node_weights

STAGE_ORDER = ("Raw", "Denominated", "Screened", "Imputed", "Treated", "Normalised",
               "Aggregated")
STEP_STAGES = (("denominate", "Denominated"), ("screen", "Screened"), ("impute", "Imputed"),
               ("treat", "Treated"), ("normalise", "Normalised"), ("aggregate", "Aggregated"))


@dataclass
class LogEntry:
    step: str
    stage: str
    settings: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)


def weights_cfg(settings: Mapping[str, Any], code: str) -> dict[str, Any]:
    base = {k: v for k, v in settings.items() if k != "nodes"}
    base.update(dict((settings.get("nodes") or {}).get(code, {})))
    return base


@dataclass
class Coin:
    spec: IndexSpec
    raw: pd.DataFrame
    groups: pd.DataFrame | None = None
    denominators: pd.DataFrame | None = None
    stages: dict[str, pd.DataFrame] = field(default_factory=dict)
    log: list[LogEntry] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)
    weight_info: dict[str, Any] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)  # see index.zeros
    # per (unit, period): whether a zero under a geometric or harmonic mean set or pulled
    # down the index (see zeros.scan)
    zero_affected: pd.Series | None = None

    # --- building ----------------------------------------------------------------------
    @classmethod
    def build(cls, spec: IndexSpec, raw: pd.DataFrame, groups: pd.DataFrame | None = None,
              denominators: pd.DataFrame | None = None, until: str | None = None) -> Coin:
        raw = raw.copy()
        raw.index = raw.index.set_names(["unit", "period"])
        missing = [i for i in spec.indicators if i not in raw.columns]
        for code in missing:
            raw[code] = np.nan
        coin = cls(spec=spec, raw=raw[spec.indicators].astype(float).sort_index(),
                   groups=groups, denominators=denominators)
        coin.stages["Raw"] = coin.raw
        coin.log.append(LogEntry("raw", "Raw", {}, {
            "units": int(coin.raw.index.get_level_values(0).nunique()),
            "periods": sorted(coin.raw.index.get_level_values(1).unique().tolist()),
            "indicators": len(spec.indicators), "values": int(coin.raw.notna().sum().sum()),
            "missing_values": int(coin.raw.isna().sum().sum()),
            "missing_indicators": missing}))
        coin._run(until)
        return coin

    def _run(self, until: str | None, start: int = 0) -> None:
        s = self.spec
        current = self.raw
        for name in STAGE_ORDER[1:start + 1]:
            current = self.stages.get(name, current)
        den_by = {c: n.denominator for c, n in s.nodes.items() if n.is_indicator
                  and n.denominator}
        plan = {
            "denominate": (s.step("denominate") or ({"by": {}} if den_by else None))
            if s.settings.get("denominate", True) not in (None, False) else None,
            "screen": s.step("screen"), "impute": s.step("impute"), "treat": s.step("treat"),
            "normalise": s.step("normalise") or {"method": "minmax"},
            "aggregate": s.step("aggregate") or {"method": "arithmetic"},
        }
        for step_name, stage in STEP_STAGES[start:]:
            cfg = plan[step_name]
            if cfg is None:
                continue
            current, info = getattr(self, f"_{step_name}")(current, dict(cfg), den_by)
            self.stages[stage] = current
            self.log.append(LogEntry(step_name, stage, copy.deepcopy(cfg), info))
            if until == stage:
                return

    def _denominate(self, data: pd.DataFrame, cfg: dict[str, Any], den_by: dict[str, str]
                    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        by = {**den_by, **dict(cfg.get("by") or {})}
        return steps.denominate(data, self.denominators, by, cfg.get("scale"))

    def _screen(self, data: pd.DataFrame, cfg: dict[str, Any], _: Any
                ) -> tuple[pd.DataFrame, dict[str, Any]]:
        return steps.screen(data, float(cfg.get("min_coverage", 0.0)),
                            bool(cfg.get("zero_as_missing", False)), cfg.get("exclude", ()))

    def _impute(self, data: pd.DataFrame, cfg: dict[str, Any], _: Any
                ) -> tuple[pd.DataFrame, dict[str, Any]]:
        group = None
        if cfg.get("group"):
            if self.groups is None or cfg["group"] not in self.groups.columns:
                raise steps._setting_error("Unknown group column {name}.", name=cfg["group"])
            group = self.groups[cfg["group"]]
        return steps.impute(data, cfg.get("method", "mean"), group)

    def _treat(self, data: pd.DataFrame, cfg: dict[str, Any], _: Any
               ) -> tuple[pd.DataFrame, dict[str, Any]]:
        return steps.treat(data, **cfg)

    def _normalise(self, data: pd.DataFrame, cfg: dict[str, Any], _: Any
                   ) -> tuple[pd.DataFrame, dict[str, Any]]:
        return norm.normalise(data, self.spec, **cfg)

    def _aggregate(self, data: pd.DataFrame, cfg: dict[str, Any], _: Any
                   ) -> tuple[pd.DataFrame, dict[str, Any]]:
        wcfg = self.spec.step("weights") or {"method": "fixed"}

        def weight_fn(code: str, children: agg.Children) -> dict[str, float]:
            ncfg = weights_cfg(wcfg, code)
            data = None
            if ncfg.get("method", "fixed") in DATA_DRIVEN:
                data = children.raw() if agg.on_raw(ncfg) else children.scores()
            w, info = node_weights(self.spec, code, ncfg, data)
            self.weight_info[code] = {"method": ncfg.get("method", "fixed"),
                                      "on": ncfg.get("on", "normalised"), **info}
            return w

        out, info = agg.aggregate(data, self.spec, weight_fn, self.decision_matrix(), **cfg)
        self.weights = info["weights"]
        for code, node in info["nodes"].items():
            node["weighting"] = self.weight_info.get(code, {})
        info["weights_settings"] = wcfg
        info["effective_weights"] = effective_weights(self.spec, self.weights)
        affected = np.zeros(len(out), bool)
        if zeros.needed(self.spec, cfg):
            self.warnings, affected = zeros.scan(self.spec, cfg, self.weights,
                                                 zeros.Rows.of_frame(out))
        self.zero_affected = pd.Series(affected, index=out.index)
        info["warnings"] = self.warnings
        return out, info

    def decision_matrix(self) -> pd.DataFrame:
        """The indicators as they entered normalisation (after denominators, screening,
        imputation and treatment): the raw decision matrix of ``on: raw``."""
        for name in ("Treated", "Imputed", "Screened", "Denominated"):
            if name in self.stages:
                return self.stages[name]
        return self.raw

    # --- replay and inspection ---------------------------------------------------------
    def regen(self, changes: Mapping[str, Any] | None = None) -> Coin:
        """A new coin run from the same inputs with ``changes`` merged into the settings,
        e.g. ``coin.regen({"normalise": {"method": "zscore"}})``. ``{"treat": None}`` drops
        a step. Stages before the first step that a change touches are reused, not
        recomputed (so a Monte Carlo over weights does not re-treat outliers)."""
        changes = dict(changes or {})
        keys = {"weights": "aggregate"}
        touched = [i for i, (step, _) in enumerate(STEP_STAGES)
                   if step in {keys.get(k, k) for k in changes}]
        first = min(touched) if touched and set(changes) <= {
            *(s for s, _ in STEP_STAGES), "weights"} else 0
        coin = Coin(spec=self.spec.with_settings(changes), raw=self.raw, groups=self.groups,
                    denominators=self.denominators)
        keep = {st for _, st in STEP_STAGES[:first]} | {"Raw"}
        coin.stages = {k: v for k, v in self.stages.items() if k in keep}
        coin.log = [e for e in self.log if e.stage in keep]
        coin._run(None, first)
        return coin

    @property
    def results(self) -> pd.DataFrame:
        return self.stages["Aggregated"]

    def stage(self, name: str) -> pd.DataFrame:
        if name not in self.stages:
            raise steps._setting_error("No stage {name} in this run.", name=name)
        return self.stages[name]

    def long(self, name: str = "Aggregated") -> pd.DataFrame:
        """A stage in long form: unit, period, code, value (missing values left out)."""
        wide = self.stage(name)
        out = wide.stack(future_stack=True).dropna().reset_index()
        out.columns = ["unit", "period", "code", "value"]
        return out

    def ranks(self, code: str | None = None) -> pd.DataFrame:
        """Rank of every unit per period on ``code`` (default: the index), 1 = best."""
        code = code or self.spec.root
        col = self.results[code]
        return col.groupby(level=1).rank(ascending=False, method="min").to_frame(code)

    def export(self, folder: str | Path) -> list[Path]:
        """Write every stage as ``<Stage>.csv`` (long form) and the log as ``log.json``: per
        step its settings and what it did (see :meth:`log_records`)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name in self.stages:
            path = folder / f"{name}.csv"
            self.long(name).to_csv(path, index=False)
            paths.append(path)
        text = json.dumps(self.log_records(), indent=2, ensure_ascii=False, allow_nan=False)
        (folder / "log.json").write_text(text, "utf-8")
        paths.append(folder / "log.json")
        return paths

    def log_records(self) -> list[dict[str, Any]]:
        """The log as plain JSON data: ``step``, ``stage``, ``settings`` and ``info`` — the
        panel's size (raw); denominators used; rows screened out; values imputed per method
        and indicator; each indicator's treatment with winsorisation counts; each
        indicator's normaliser, direction, parameters and statistics; per node its
        aggregation settings, weighting method (with the AHP consistency ratio), the weights
        given and their shares, every node's effective weight in the index, and the warnings
        of :mod:`citygrowth.index.zeros`."""
        return [{"step": e.step, "stage": e.stage, "settings": jsonable(e.settings),
                 "info": jsonable(e.info)} for e in self.log]


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers, tuples as lists, keys as text and
    NaN as None."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    return value
