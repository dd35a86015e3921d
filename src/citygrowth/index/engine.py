"""Running the engine on files, without any database: the ``citygrowth index run`` command.

Data come long (``unit,period,indicator,value``). Indicators that the framework names as a
denominator of another (``denominator: population``) are read as denominators; everything
else not in the framework is ignored. Unit groups (for group-mean imputation) come from an
optional CSV with a ``unit`` column and one column per grouping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from citygrowth.errors import Problem, ValidationFailed
from citygrowth.index import dense
from citygrowth.index.coin import Coin
from citygrowth.index.io import long_to_wide, read_long_csv, write_results_csv
from citygrowth.index.spec import IndexSpec, load_spec


def denominator_names(spec: IndexSpec) -> set[str]:
    names = {n.denominator for n in spec.nodes.values() if n.denominator}
    by = (spec.step("denominate") or {}).get("by") or {}
    return {str(v) for v in names | set(by.values())}


def _check_known(spec: IndexSpec, long: pd.DataFrame) -> None:
    present = set(long["indicator"].unique())
    if not present & set(spec.indicators):
        raise ValidationFailed("The data hold none of the framework's indicators.",
                               problems=[Problem(message="Indicators in the data: {codes}",
                                                 params={"codes": ", ".join(
                                                     sorted(present)[:10])})])


def coin_from_long(spec: IndexSpec, long: pd.DataFrame, groups: pd.DataFrame | None = None
                   ) -> Coin:
    """Build a coin from long data (indicator values and denominators together)."""
    known = set(spec.indicators)
    dens = denominator_names(spec)
    _check_known(spec, long)
    wide = long_to_wide(long[long["indicator"].isin(known | dens)])
    den = wide[[c for c in wide.columns if c in dens]] if dens else None
    raw = wide[[c for c in wide.columns if c in known]]
    return Coin.build(spec, raw, groups=groups, denominators=den)


def read_groups(path: str | Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str)
    if "unit" not in df.columns:
        raise ValidationFailed("The groups file needs a unit column.", problems=[Problem(
            message="Missing column {column}.", params={"column": "unit"}, file=str(path))])
    return df.set_index("unit")


@dataclass
class FileRun:
    units: int
    rows: int
    path: Path
    engine: str  # "dense" (the fast path) or "coin" (every stage kept)
    warnings: list[dict[str, Any]] = field(default_factory=list)  # see index.zeros


def run_files(framework: str | Path, data: str | Path, out: str | Path,
              stages: str | Path | None = None, groups: str | Path | None = None,
              changes: Mapping[str, Any] | None = None) -> FileRun:
    """Compute every node for every unit and period and write ``out`` (long CSV);
    with ``stages`` also every intermediate stage and the run log into that folder.

    A framework whose steps are all data-parallel (no denominators, screening, imputation
    or treatment; weights fixed, equal or AHP) runs on the dense path, which gives the same
    numbers many times faster; ``stages`` asks for the coin, which keeps every stage."""
    spec = load_spec(framework)
    if changes:
        spec = spec.with_settings(changes)
    long = read_long_csv(data)
    if stages is None and groups is None and dense.capable(spec):
        _check_known(spec, long)
        fast = dense.run(spec, long)
        results, warnings, engine = fast.long(), fast.warnings, "dense"
    else:
        coin = coin_from_long(spec, long, read_groups(groups) if groups else None)
        results, warnings, engine = coin.long("Aggregated"), coin.warnings, "coin"
        if stages:
            coin.export(stages)
    write_results_csv(results, out)
    return FileRun(units=int(results["unit"].nunique()), rows=len(results), path=Path(out),
                   engine=engine, warnings=warnings)
