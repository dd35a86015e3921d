"""``citygrowth index …``: run the engine on files, compute the district's index, audit,
uncertainty and explanations (thin commands over the engine and the service)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from citygrowth.auth.actor import system_actor
from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.cli.progress import count_bar
from citygrowth.errors import Problem, ValidationFailed
from citygrowth.i18n import _
from citygrowth.index.audit import audit
from citygrowth.index.coin import Coin
from citygrowth.index.engine import coin_from_long, read_groups, run_files
from citygrowth.index.explain import contributions
from citygrowth.index.io import read_long_csv
from citygrowth.index.sensitivity import sensitivity, uncertainty
from citygrowth.index.service import compute_index, load_coin
from citygrowth.index.spec import load_spec
from citygrowth.index.zeros import describe

LEVEL = click.Choice(["street", "community", "grid"])


def parse_sets(values: tuple[str, ...]) -> dict[str, Any]:
    """``normalise.method=zscore`` → ``{"normalise": {"method": "zscore"}}`` (values JSON or
    plain text)."""
    out: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValidationFailed("A setting must look like step.key=value.", problems=[
                Problem(message="Not understood: {item}", params={"item": item})])
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        d = out
        parts = key.split(".")
        for part in parts[:-1]:
            d = d.setdefault(part, {})
        d[parts[-1]] = value
    return out


def _coin(cx: CliContext, framework: str, data: str | None, groups: str | None,
          level: str, sets: tuple[str, ...]) -> Coin:
    if data:
        spec = load_spec(framework).with_settings(parse_sets(sets))
        return coin_from_long(spec, read_long_csv(data), read_groups(groups) if groups else None)
    coin = load_coin(cx.runtime, framework, "latest", level)
    return coin.regen(parse_sets(sets)) if sets else coin


COMMON = [
    click.argument("framework"),
    click.option("--data", type=click.Path(dir_okay=False), default=None,
                 help="Long CSV unit,period,indicator,value (default: the stored results)."),
    click.option("--groups", type=click.Path(dir_okay=False), default=None,
                 help="CSV with a unit column and group columns (for group imputation)."),
    click.option("--level", type=LEVEL, default="street", show_default=True,
                 help="Area level of the stored results (without --data)."),
    click.option("--set", "sets", multiple=True,
                 help="Change a setting, e.g. normalise.method=zscore (repeatable)."),
]


def common(fn: Any) -> Any:
    for deco in reversed(COMMON):
        fn = deco(fn)
    return fn


@click.group("index")
def index() -> None:
    """The composite index: run on files, compute, audit, uncertainty, explain.

    Example: citygrowth index run hdi.yaml --data data.csv --out results.csv
    """


@index.command("run")
@click.argument("framework", type=click.Path(exists=True, dir_okay=False))
@click.option("--data", type=click.Path(exists=True, dir_okay=False), required=True,
              help="Long CSV: unit,period,indicator,value.")
@click.option("--out", type=click.Path(dir_okay=False), required=True,
              help="Results CSV: unit,period,code,value for every node.")
@click.option("--stages", type=click.Path(file_okay=False), default=None,
              help="Folder to write every stage (<Stage>.csv) and the run log into.")
@click.option("--groups", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CSV with a unit column and group columns (for group imputation).")
@click.option("--set", "sets", multiple=True,
              help="Change a setting, e.g. normalise.method=zscore (repeatable).")
def run(framework: str, data: str, out: str, stages: str | None, groups: str | None,
        sets: tuple[str, ...]) -> None:
    """Compute an index from files, without a database.

    Example: citygrowth index run tests/data/index/hdi.yaml --data hdi.csv --out hdi_out.csv
    """
    done = run_files(framework, data, out, stages, groups, parse_sets(sets))
    click.echo(_("Index computed: {units} units, {rows} rows written to {path}.").format(
        units=done.units, rows=done.rows, path=out))
    for warning in done.warnings:
        click.echo(_("Warning: {text}").format(text=describe(warning)), err=True)


@index.command("compute")
@click.option("--framework", default="default", show_default=True,
              help="Catalog framework name or file.")
@pass_ctx
def compute(cx: CliContext, framework: str) -> None:
    """Compute the district's index from the observation store and store the results.

    Example: citygrowth index compute --framework default
    """
    with cx.session() as s:
        with count_bar(_("Computing the index by area level")) as report:
            run_ = compute_index(s, cx.runtime, system_actor("cli"), framework,
                                 progress=report)
        click.echo(_("Index run {id}: vintage {vintage}, levels {levels}, {rows} rows.").format(
            id=run_.id, vintage=run_.vintage, levels=", ".join(json.loads(run_.levels)) or "-",
            rows=run_.rows))


@index.command("audit")
@common
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the audit as JSON here (default: print a summary).")
@pass_ctx
def audit_cmd(cx: CliContext, framework: str, data: str | None, groups: str | None,
              level: str, sets: tuple[str, ...], out: str | None) -> None:
    """Statistical audit: statistics, correlation flags, Cronbach's alpha, PCA per group.

    Example: citygrowth index audit hdi.yaml --data hdi.csv --out audit.json
    """
    report = audit(_coin(cx, framework, data, groups, level, sets))
    if out:
        Path(out).write_text(json.dumps(report, indent=2, default=str), "utf-8")
    for g in report["groups"]:
        click.echo(f"{g['code']}: alpha={_fmt(g['alpha'])} pc1={_fmt(g['pc1_share'])}")
    for f in report["flags"]:
        click.echo(f"{f['flag']}: {f['a']} ~ {f['b']} r={f['r']:.2f}")


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


@index.command("uncertainty")
@common
@click.option("--runs", "n", type=click.IntRange(2, 5000), default=100, show_default=True,
              help="Monte Carlo replications (or Sobol base samples with --sobol).")
@click.option("--factor", "factors", multiple=True,
              help="An uncertain setting with its options, e.g. "
                   "normalise.method=minmax,zscore (repeatable).")
@click.option("--weights-noise", type=click.FloatRange(0, 1), default=None,
              help="Also vary every weight by ±this share.")
@click.option("--sobol", is_flag=True, help="Variance-based sensitivity indices instead.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the table as CSV here.")
@pass_ctx
def uncertainty_cmd(cx: CliContext, framework: str, data: str | None, groups: str | None,
                    level: str, sets: tuple[str, ...], n: int, factors: tuple[str, ...],
                    weights_noise: float | None, sobol: bool, seed: int,
                    out: str | None) -> None:
    """Monte Carlo rank intervals per unit, or Sobol sensitivity indices per factor.

    Example: citygrowth index uncertainty hdi.yaml --data hdi.csv --weights-noise 0.25
    """
    coin = _coin(cx, framework, data, groups, level, sets)
    specs: list[dict[str, Any]] = []
    for f in factors:
        path, sep, options = f.partition("=")
        if not sep or not options:
            raise ValidationFailed("A factor must look like step.key=option1,option2.",
                                   problems=[Problem(message="Not understood: {item}",
                                                     params={"item": f})])
        specs.append({"name": path, "path": path, "options": options.split(",")})
    if weights_noise:
        specs.append({"name": "weights", "kind": "weights", "noise": weights_noise})
    if not specs:
        raise ValidationFailed("Name at least one factor or --weights-noise.")
    with count_bar(_("Sobol runs") if sobol else _("Monte Carlo replications")) as report:
        if sobol:
            table, params = sensitivity(coin, specs, n=n, seed=seed, progress=report)
            hit, runs = int((params["zeros_decide"] > 0).sum()), len(params)
        else:
            result = uncertainty(coin, specs, n=n, seed=seed, progress=report)
            table, hit, runs = result.summary, result.zero_replications, n
    click.echo(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if hit:
        click.echo(_("Warning: in {hit} of {n} replications a zero under a geometric or "
                     "harmonic mean set or pulled down some units' index, and their ranks "
                     "carry it (column zero_share). Try --set aggregate.zeros=shift or "
                     "--set 'normalise.range=[1,100]'.").format(hit=hit, n=runs), err=True)
    if out:
        table.to_csv(out, index=False)


@index.command("explain")
@common
@click.option("--unit", required=True, help="The unit (area code) to explain.")
@click.option("--from", "start", required=True, help="Start period.")
@click.option("--to", "end", required=True, help="End period.")
@click.option("--code", default=None, help="Node to explain (default: the index).")
@pass_ctx
def explain_cmd(cx: CliContext, framework: str, data: str | None, groups: str | None,
                level: str, sets: tuple[str, ...], unit: str, start: str, end: str,
                code: str | None) -> None:
    """Each indicator's contribution to a unit's change between two periods.

    Example: citygrowth index explain hdi.yaml --data hdi.csv --unit NOR --from 2018 --to 2019
    """
    table = contributions(_coin(cx, framework, data, groups, level, sets), unit, start, end,
                          code)
    click.echo(_("Change: {change:.4f}").format(change=table.attrs["node_change"]))
    click.echo(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
