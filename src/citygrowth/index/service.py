"""The index on the server: computed from the observation store, stored by framework version
and data vintage, read back for pages, the API and other domains.

Results of a run are Parquet files under
``<data_dir>/results/<framework code>/<framework version>/<vintage key>/``: per area level
``<level>.parquet`` (unit, period, code, value, rank) and ``<level>.raw.parquet`` (the
indicator values the run started from, so audits and explanations can rebuild the run), plus
``run.json``. The run's metadata is a row of ``index_runs``.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.areas.models import LEVELS as AREA_LEVELS
from citygrowth.areas.tree import AreaTree
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import require, scope_prefixes
from citygrowth.catalog.framework import Framework
from citygrowth.errors import NotFound, ValidationFailed
from citygrowth.events import publish_on_commit
from citygrowth.index import ibis_ops, zeros
from citygrowth.index.audit import audit
from citygrowth.index.coin import Coin, jsonable
from citygrowth.index.dense import fixed_weights
from citygrowth.index.explain import contributions, strengths_weaknesses
from citygrowth.index.models import IndexRun
from citygrowth.index.sensitivity import uncertainty
from citygrowth.index.spec import IndexSpec, spec_for_framework
from citygrowth.index.zeros import remedies
from citygrowth.logging_setup import get_logger
from citygrowth.observatory.store import ObservationStore
from citygrowth.runtime import Runtime
from citygrowth.settings import Settings

log = get_logger(__name__)
LEVELS = ("street", "community", "grid")  # computed: areas ranked against their peers
READABLE_LEVELS = ("district", *LEVELS)  # the district is derived from its streets


def results_root(settings: Settings, spec: IndexSpec) -> Path:
    """Where the runs of one framework version are kept."""
    return settings.store_dir / "results" / _safe(spec.code) / _safe(spec.version)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "", text) or "_"


def vintage_key(vintage: str) -> str:
    """A sortable folder name for a vintage timestamp (``2026-11-26T10:40:32+00:00`` →
    ``20261126T104032``)."""
    return _safe(vintage.replace("-", "").replace(":", "").split("+")[0].replace(".", "_"))


def level_codes(fw: Framework, spec: IndexSpec, level: str, present: set[str]) -> list[str]:
    """The indicators of ``spec`` computed at ``level``: those with data whose finest level
    is ``level`` or finer."""
    return [i.code for i in fw.indicators if i.code in spec.nodes and i.code in present
            and AREA_LEVELS.index(i.finest_level) >= AREA_LEVELS.index(level)]


def level_inputs(fw: Framework, codes: list[str]) -> set[str]:
    """The stored indicators a level's values come from: its indicators and, for ratios,
    their numerators and denominators."""
    out = set(codes)
    for code in codes:
        r = fw.indicator(code).rollup
        if r.rule == "ratio_of_sums":
            out |= {r.numerator or "", r.denominator or ""}
    return out


def annualise(obs: pd.DataFrame, rules: dict[str, str]) -> pd.DataFrame:
    """The server computes the index per year: quarterly and monthly values become the
    year's sum for indicators rolled up by ``sum`` (flows such as GDP or new jobs) and the
    year's mean for the others (rates, averages). A year still in progress is summed pro rata
    (×12/months or ×4/quarters present), so this year's flows compare with last year's instead
    of looking like a fall."""
    obs = obs[["indicator", "area_code", "period", "value"]].copy()
    text = obs["period"].astype(str)
    per_year = text.map(lambda p: 4 if "Q" in p else (12 if len(p) == 7 else 1))
    obs["period"] = text.str[:4]
    obs["per_year"] = per_year
    is_sum = obs["indicator"].map(rules).eq("sum")
    keys = ["indicator", "area_code", "period"]
    parts = []
    sums = obs[is_sum]
    if len(sums):
        g = sums.groupby(keys, as_index=False).agg(value=("value", "sum"),
                                                    present=("value", "size"),
                                                    per_year=("per_year", "max"))
        scale = (g["per_year"] / g["present"]).clip(lower=1.0)
        g["value"] = g["value"] * scale
        parts.append(g[[*keys, "value"]])
    means = obs[~is_sum]
    if len(means):
        parts.append(means.groupby(keys, as_index=False)["value"].mean())
    return pd.concat(parts, ignore_index=True) if parts else obs[[*keys, "value"]]


def latest_vintage(settings: Settings) -> str:
    """The newest vintage in the observation store (what a run would compute from)."""
    summary = ObservationStore(settings).summary()
    if summary.empty or summary["last_vintage"].isna().all():
        raise ValidationFailed("There are no observations to compute the index from.",
                               code="no_observations")
    return str(pd.Timestamp(summary["last_vintage"].max()).isoformat())


def _rank(long: pd.DataFrame) -> pd.DataFrame:
    """Rank 1 = highest per period and code, ties at their lowest rank; values compared as
    rounded to ``ibis_ops.RANK_DECIMALS`` like the Ibis path (last-bit differences of sums
    taken in another order must not split a tie)."""
    long = long.copy()
    key = long["value"].round(ibis_ops.RANK_DECIMALS)
    long["rank"] = key.groupby([long["period"], long["code"]]).rank(
        ascending=False, method="min").astype("Int64")
    return long


def level_spec(spec: IndexSpec, rules: dict[str, str]) -> IndexSpec:
    """The catalog's goalposts are district figures. Below the district, indicators summed up
    the area tree (counts, amounts) are normalised by min-max over the panel instead; rates
    and means keep their goalposts."""
    summed = {c: {"method": "minmax", "global": True} for c in spec.indicators
              if rules.get(c) == "sum" and spec.nodes[c].goalposts is not None}
    normalise = spec.step("normalise") or {}
    if not summed or not normalise.get("use_goalposts"):
        return spec
    return spec.with_settings({"normalise": {"overrides": summed}})


def derive_district(session: Session, streets: pd.DataFrame,
                    tree: AreaTree | None = None) -> pd.DataFrame:
    """Scores of each district from its streets' scores, weighted by the streets' populations
    (equal weights where a population is unknown). The engine ranks areas against their peers,
    and a district has none; arithmetic aggregation being linear, this equals the index of the
    district's population-weighted normalised values when the index uses arithmetic means."""
    tree = tree or AreaTree.load(session)
    df = streets.dropna(subset=["value"]).copy()
    if df.empty:
        return pd.DataFrame(columns=["unit", "period", "code", "value", "rank"])
    df["unit"] = df["unit"].astype(str)
    w = df["unit"].map(lambda c: tree.population.get(c) or 1).astype(float)
    df["district"] = df["unit"].str[:6]
    df["wv"] = df["value"].astype(float) * w
    df["w"] = w
    g = df.groupby(["district", "period", "code"], as_index=False)[["wv", "w"]].sum()
    g["value"] = g["wv"] / g["w"]
    g["rank"] = pd.array([1] * len(g), dtype="Int64")
    return g.rename(columns={"district": "unit"})[["unit", "period", "code", "value", "rank"]]


def compute_level(spec: IndexSpec, obs: pd.DataFrame) -> tuple[Coin, pd.DataFrame] | None:
    """The coin of one area level from annual observations (``area_code`` or ``unit``,
    ``period``, ``indicator``, ``value``), or None without data."""
    if obs.empty:
        return None
    obs = obs.rename(columns={"unit": "area_code"})
    raw = obs.pivot_table(index=["area_code", "period"], columns="indicator", values="value",
                          aggfunc="last")
    raw.columns.name = None
    raw.index = raw.index.set_names(["unit", "period"])
    coin = Coin.build(spec, raw.astype(float))
    return coin, _rank(coin.long("Aggregated"))


@dataclass
class LevelResult:
    """One level of a run: results (unit, period, code, value, rank), the indicator values
    it started from (wide, by unit and period), zero warnings, the engine that computed it
    and how long each part took."""

    results: pd.DataFrame
    raw: pd.DataFrame
    warnings: list[dict[str, Any]]
    engine: str
    seconds: dict[str, float]


def compute_level_from_store(store: ObservationStore, fw: Framework, spec: IndexSpec,
                             level: str, codes: list[str], engine: str = "ibis",
                             populations: pd.DataFrame | None = None) -> LevelResult | None:
    """One level from the store: the panel rolled up and made annual on the store's engine
    (:func:`ibis_ops.level_panel`), then imputed, normalised, aggregated and ranked there too
    (:func:`ibis_ops.index_expr`) — or by the coin when ``engine`` is ``coin`` or the spec
    needs what the expressions lack (:func:`ibis_ops.unsupported`, logged)."""
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    panel = store.execute(ibis_ops.level_panel(store, fw, codes, level, populations))
    seconds["panel"] = time.perf_counter() - t
    panel = panel[panel["value"].notna()]
    if panel.empty:
        return None
    raw = panel.pivot_table(index=["unit", "period"], columns="indicator", values="value",
                            aggfunc="last")
    raw.columns.name = None
    reason = "the index_engine setting" if engine == "coin" else ibis_ops.unsupported(spec)
    t = time.perf_counter()
    if reason is not None:
        if engine != "coin":
            log.info("index level computed by the coin", level=level, reason=reason)
        built = compute_level(spec, panel)
        assert built is not None
        coin, results = built
        seconds["index"] = time.perf_counter() - t
        return LevelResult(results, coin.raw, coin.warnings, "coin", seconds)
    normalised = store.execute(ibis_ops.prepared_expr(ibis_ops.memtable(panel), spec))
    results = store.execute(ibis_ops.finished_expr(ibis_ops.memtable(normalised), spec))
    results = results.sort_values(["unit", "period", "code"], kind="stable").reset_index(
        drop=True)
    results["rank"] = results["rank"].astype("Int64")
    warnings: list[dict[str, Any]] = []
    aset = spec.step("aggregate") or {"method": "arithmetic"}
    if zeros.needed(spec, aset) and len(results):
        wide = results.pivot(index=["unit", "period"], columns="code", values="value")
        wide = wide.reindex(columns=list(spec.nodes))
        warnings = zeros.check(spec, aset, fixed_weights(spec), zeros.Rows.of_frame(wide))
    seconds["index"] = time.perf_counter() - t
    return LevelResult(results[["unit", "period", "code", "value", "rank"]], raw, warnings,
                       store.backend_name, seconds)


def _reuse(previous: Path, folder: Path, level: str) -> bool:
    """Take a level's files over from the previous run (its inputs did not change)."""
    files = [previous / f"{level}.parquet", previous / f"{level}.raw.parquet"]
    if not all(p.exists() for p in files):
        return False
    for src in files:
        dst = folder / src.name
        if src.resolve() != dst.resolve():
            shutil.copyfile(src, dst)
    return True


def compute_index(session: Session, runtime: Runtime, actor: Actor,
                  framework: str = "default", levels: tuple[str, ...] = LEVELS, *,
                  previous: IndexRun | None = None, touched: set[str] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> IndexRun:
    """Compute the index of ``framework`` per area level and period from the observation
    store; store the results; publish ``index.computed`` on the runtime's bus.

    With ``previous`` (a finished run of the same framework version) and ``touched`` (the
    indicators loaded since), a level none of whose inputs was touched takes the previous
    run's results over instead of being computed again. ``progress(step, total)`` is told
    as each area level starts."""
    require(actor, "index.compute")
    settings = runtime.settings
    started = time.perf_counter()
    fw = runtime.frameworks.load(framework)
    spec = spec_for_framework(fw)
    vintage = latest_vintage(settings)
    folder = results_root(settings, spec) / vintage_key(vintage)
    folder.mkdir(parents=True, exist_ok=True)
    run = IndexRun(framework_code=spec.code, framework_version=spec.version, vintage=vintage,
                   status="running", levels="[]", rows=0, results_path=str(folder),
                   settings_json=json.dumps(spec.settings, default=str), message="",
                   actor=actor.username, started_at=runtime.now())
    session.add(run)
    session.flush()
    old: Path | None = None
    old_info: dict[str, Any] = {}
    if previous is not None and touched is not None and previous.results_path \
            and previous.framework_version == spec.version and previous.status == "done":
        old = Path(previous.results_path)
        try:
            old_info = json.loads((old / "run.json").read_text("utf-8"))
        except (OSError, ValueError):
            old = None
    done: list[str] = []
    warnings: dict[str, list[dict[str, Any]]] = {}
    detail: dict[str, dict[str, Any]] = {}
    rows = 0
    rules = {i.code: i.rollup.rule for i in fw.indicators}
    store = ObservationStore(settings)
    present = set(store.summary()["indicator"])
    tree = AreaTree.load(session)
    populations = pd.DataFrame({"pop_code": list(tree.population),
                                "population": [float(p or 0) for p in tree.population.values()]})
    steps = [lv for lv in levels if lv in LEVELS]  # the district: derived below, no peers
    for step, level in enumerate(steps, start=1):
        if progress is not None:
            progress(step, len(steps))
        codes = level_codes(fw, spec, level, present)
        if not codes:
            continue
        if old is not None and touched is not None \
                and not level_inputs(fw, codes) & touched and _reuse(old, folder, level):
            if level in old_info.get("warnings", {}):
                warnings[level] = old_info["warnings"][level]
            detail[level] = {"engine": "previous run", "seconds": {}}
            done.append(level)
            rows += int(pq.ParquetFile(folder / f"{level}.parquet").metadata.num_rows)
            continue
        result = compute_level_from_store(store, fw, level_spec(spec, rules), level, codes,
                                          settings.index_engine, populations)
        if result is None:
            continue
        if result.warnings:
            warnings[level] = result.warnings
        t = time.perf_counter()
        result.results.to_parquet(folder / f"{level}.parquet", index=False)
        result.raw.reset_index().to_parquet(folder / f"{level}.raw.parquet", index=False)
        result.seconds["write"] = time.perf_counter() - t
        detail[level] = {"engine": result.engine,
                         "seconds": {k: round(v, 3) for k, v in result.seconds.items()}}
        done.append(level)
        rows += len(result.results)
    if "street" in done:
        district = derive_district(session, pd.read_parquet(folder / "street.parquet"), tree)
        district.to_parquet(folder / "district.parquet", index=False)
        done.insert(0, "district")
        rows += len(district)
    run.status = "done"
    run.levels = json.dumps(done)
    run.rows = rows
    run.finished_at = runtime.now()
    (folder / "run.json").write_text(json.dumps({
        **run.as_dict(), "warnings": jsonable(warnings), "levels_detail": detail,
        "seconds": round(time.perf_counter() - started, 3)}, default=str), "utf-8")
    record(session, actor, "index.compute", f"{spec.code}@{vintage}",
           {"levels": done, "rows": rows})
    session.flush()
    publish_on_commit(session, runtime.bus, "index.computed", {
        "framework": spec.code, "version": spec.version, "vintage": vintage, "levels": done,
        "run_id": run.id})
    return run


def _run_folder(runtime: Runtime, framework: str,
                vintage: str) -> tuple[Framework, IndexSpec, Path]:
    fw = runtime.frameworks.load(framework)
    spec = spec_for_framework(fw)
    root = results_root(runtime.settings, spec)
    if vintage == "latest":
        found = sorted(p for p in root.glob("*") if (p / "run.json").exists()) \
            if root.exists() else []
        if not found:
            raise NotFound("The index has not been computed yet.", code="no_index_results")
        return fw, spec, found[-1]
    folder = root / vintage_key(vintage)
    if not (folder / "run.json").exists():
        raise NotFound("No index results for vintage {vintage}.", code="no_index_results",
                       vintage=vintage)
    return fw, spec, folder


def read_results(runtime: Runtime, framework: str = "default", vintage: str = "latest",
                 level: str = "street", period: str | None = None) -> pd.DataFrame:
    """Stored results: DataFrame(unit, period, code, value, rank)."""
    if level not in READABLE_LEVELS:
        raise ValidationFailed("Unknown area level '{level}'.", code="bad_level", level=level)
    _, _, folder = _run_folder(runtime, framework, vintage)
    path = folder / f"{level}.parquet"
    if not path.exists():
        return pd.DataFrame(columns=["unit", "period", "code", "value", "rank"])
    df = pd.read_parquet(path)
    if period is not None:
        df = df[df["period"] == period]
    return df.reset_index(drop=True)


def load_coin(runtime: Runtime, framework: str = "default", vintage: str = "latest",
              level: str = "street") -> Coin:
    """Rebuild the coin of a stored run (for audits, uncertainty and explanations)."""
    fw, spec, folder = _run_folder(runtime, framework, vintage)
    path = folder / f"{level}.raw.parquet"
    if level not in LEVELS or not path.exists():
        raise NotFound("No index results for level {level}.", code="no_index_results",
                       level=level)
    rules = {i.code: i.rollup.rule for i in fw.indicators}
    raw = pd.read_parquet(path).set_index(["unit", "period"])
    return Coin.build(level_spec(spec, rules), raw)


def list_runs(session: Session, actor: Actor, framework: str | None = None,
              limit: int = 50, before: int | None = None) -> list[IndexRun]:
    """Newest first (older than run ``before``, if given)."""
    require(actor, "index.read")
    q = select(IndexRun).order_by(IndexRun.id.desc()).limit(limit)
    if framework:
        q = q.where(IndexRun.framework_code == framework)
    if before is not None:
        q = q.where(IndexRun.id < before)
    return list(session.scalars(q))


def latest_vintage_computed(session: Session, framework_code: str,
                            version: str | None = None) -> str | None:
    """The data vintage of the newest finished run of a framework (of one version of it when
    ``version`` is given)."""
    q = select(IndexRun.vintage).where(IndexRun.framework_code == framework_code,
                                       IndexRun.status == "done")
    if version is not None:
        q = q.where(IndexRun.framework_version == version)
    return session.scalar(q.order_by(IndexRun.id.desc()).limit(1))


def summary_of(run: IndexRun) -> dict[str, Any]:
    return run.as_dict()


# --- reading, with permissions (routes and other domains) ---------------------------------

def _in_scope(df: pd.DataFrame, actor: Actor) -> pd.DataFrame:
    prefixes = scope_prefixes(actor, "index.read")
    if prefixes is None or df.empty:
        return df
    mask = pd.Series(False, index=df.index)
    for p in prefixes:
        mask |= df["unit"].astype(str).str.startswith(p)
    return df[mask]


def results_for(runtime: Runtime, actor: Actor, framework: str = "default",
                vintage: str = "latest", level: str = "street", period: str | None = None,
                code: str | None = None) -> pd.DataFrame:
    """:func:`read_results` limited to the areas the actor may see."""
    require(actor, "index.read")
    df = read_results(runtime, framework, vintage, level, period)
    if code is not None:
        df = df[df["code"] == code]
    return _in_scope(df, actor).reset_index(drop=True)


def audit_for(runtime: Runtime, actor: Actor, framework: str = "default",
              level: str = "street") -> dict[str, Any]:
    require(actor, "index.read")
    return audit(load_coin(runtime, framework, "latest", level))


REMEDIES = ("shift", "rescale")


def remedy_changes(remedy: str | None) -> dict[str, Any]:
    """The settings changes of a documented remedy for zeros under geometric or harmonic
    means (``shift`` or ``rescale``, see :mod:`citygrowth.index.zeros`); none for None."""
    if remedy is None:
        return {}
    if remedy not in REMEDIES:
        raise ValidationFailed("Unknown remedy {remedy}; choose shift or rescale.",
                               code="bad_remedy", remedy=remedy)
    return dict(next(r["changes"] for r in remedies(0.0) if r["kind"] == remedy))


def uncertainty_for(runtime: Runtime, actor: Actor, framework: str = "default",
                    level: str = "street", runs: int = 50, weights_noise: float = 0.25,
                    vary_aggregation: bool = True, seed: int = 1,
                    remedy: str | None = None) -> pd.DataFrame:
    """Monte Carlo rank intervals of the stored run (weights noise, and arithmetic versus
    geometric aggregation when ``vary_aggregation``), with ``zero_share``: the share of
    replications in which a zero under the geometric mean set or pulled down the area's
    index. ``remedy`` (``shift`` or ``rescale``) applies that remedy to every replication."""
    require(actor, "index.read")
    coin = load_coin(runtime, framework, "latest", level)
    factors: list[dict[str, Any]] = [{"name": "weights", "kind": "weights",
                                      "noise": weights_noise}]
    if vary_aggregation:
        factors.append({"name": "aggregation", "path": "aggregate.method",
                        "options": ["arithmetic", "geometric"]})
    result = uncertainty(coin, factors, n=runs, seed=seed, base=remedy_changes(remedy))
    summary = result.summary
    summary.attrs["zero_replications"] = result.zero_replications
    summary.attrs["replications"] = runs
    return _in_scope(summary, actor).reset_index(drop=True)


def explain_for(runtime: Runtime, actor: Actor, unit: str, start: str, end: str,
                framework: str = "default", level: str = "street",
                code: str | None = None) -> pd.DataFrame:
    require(actor, "index.read", unit)
    return contributions(load_coin(runtime, framework, "latest", level), unit, start, end,
                         code)


def strengths_for(runtime: Runtime, actor: Actor, unit: str, period: str,
                  framework: str = "default", level: str = "street", n: int = 5
                  ) -> dict[str, list[Any]]:
    require(actor, "index.read", unit)
    return strengths_weaknesses(load_coin(runtime, framework, "latest", level), unit, period,
                                n)
