"""``citygrowth data …``: load files, list datasets and loads, repair pending batches."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from citygrowth.auth.actor import system_actor
from citygrowth.catalog.datasets import list_datasets
from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.i18n import N_, _, bilingual
from citygrowth.ingest.history import list_loads
from citygrowth.ingest.service import load_file, record_rejection
from citygrowth.ingest.validate import LoadRejected

console = Console()
STAGES = {"read": 0, "validate": 1, "store": 2}
STATUS = {"accepted": N_("accepted"), "rejected": N_("rejected")}


@click.group("data")
def data() -> None:
    """Department data: load files, list datasets and loads.

    Example: citygrowth data load gdp.csv --dataset stats
    """


@data.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dataset", required=True, help="Dataset code (see `citygrowth data datasets`).")
@click.option("--source", default="cli", show_default=True, help="Where the data came from.")
@pass_ctx
def load(cx: CliContext, file: Path, dataset: str, source: str) -> None:
    """Validate FILE (CSV, XLSX or JSON) and load it as one batch, all or nothing.

    Example: citygrowth data load gdp.csv --dataset stats
    """
    actor = system_actor("cli")
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(_("Reading"), total=3)
        labels = {"read": _("Reading"), "validate": _("Validating"), "store": _("Storing")}

        def progress(stage: str, fraction: float) -> None:
            bar.update(task, completed=STAGES[stage] + fraction, description=labels[stage])

        try:
            with cx.session() as session:
                result = load_file(session, cx.runtime, actor, file, dataset=dataset,
                                   source=source, progress=progress)
        except LoadRejected as err:
            with cx.session() as session:
                record_rejection(session, actor, err)
            raise
    click.echo(_("Loaded {rows} rows as {load_id} (vintage {vintage}).").format(
        rows=result.rows, load_id=result.load_id, vintage=result.vintage.isoformat()))


@data.command("datasets")
@pass_ctx
def datasets(cx: CliContext) -> None:
    """List the datasets departments send, with their indicators.

    Example: citygrowth data datasets
    """
    table = Table(_("Dataset"), _("Name"), _("Indicators"))
    for d in list_datasets(cx.runtime.frameworks.load()):
        table.add_row(d.code, bilingual(d.name_zh, d.name_en), ", ".join(d.indicators))
    console.print(table)


@data.command("loads")
@click.option("--status", type=click.Choice(["accepted", "rejected"]), default=None,
              help="Only loads with this status.")
@click.option("--limit", default=20, show_default=True, help="How many, newest first.")
@pass_ctx
def loads(cx: CliContext, status: str | None, limit: int) -> None:
    """Show the load history: who, when, rows, periods, problems.

    Example: citygrowth data loads --status rejected
    """
    table = Table(_("Load"), _("Status"), _("Dataset"), _("By"), _("Rows"), _("Periods"),
                  _("Problems"))
    with cx.session() as session:
        rows = list_loads(session, system_actor("cli"), status=status, limit=limit)
    for r in rows:
        periods = f"{r['period_min'] or ''}–{r['period_max'] or ''}"
        label = STATUS[r["status"]]
        table.add_row(r["load_id"], _(label), r["dataset"] or "", r["actor"],
                      str(r["rows"]), periods, str(r["problem_count"]))
    console.print(table)


@data.command("repair")
@pass_ctx
def repair(cx: CliContext) -> None:
    """Finish loads left invisible by a crash or a storage failure between commit and rename,
    and remove crash leftovers (the app and every command also do it when they start).

    Example: citygrowth data repair
    """
    from citygrowth.observatory.batches import recover  # lazy: keeps citygrowth --help fast

    with cx.runtime.session() as session:  # not cx.session(): that would repair first
        out = recover(session, cx.settings)
    click.echo(_("{promoted} batches made visible, {removed} abandoned batches removed.")
               .format(promoted=out.promoted, removed=out.removed))
    if out.in_flight:
        click.echo(_("{n} pending files of loads still in progress were left alone.")
                   .format(n=out.in_flight))
    if out.scratch:
        click.echo(_("{n} temporary files of stopped processes removed.").format(n=out.scratch))
    for load in out.invisible:
        message = (_("Load {load_id} ({file}) is accepted but its data could not be moved into "
                     "the store yet: check that the data folder can be written, then run this "
                     "again.") if load["state"] == "pending" else
                   _("Load {load_id} ({file}) is accepted but its data file is missing: load "
                     "the file again."))
        click.echo(message.format(load_id=load["load_id"], file=load["file_name"] or "—"),
                   err=True)
    if out.invisible:
        raise SystemExit(1)
