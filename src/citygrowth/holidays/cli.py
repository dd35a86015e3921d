"""``citygrowth calendar …``: load, show and remove State Council holiday notices."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from citygrowth.auth.actor import system_actor
from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.holidays import service
from citygrowth.holidays.notice import parse_file, to_yaml
from citygrowth.i18n import _

console = Console()


@click.group("calendar")
def calendar() -> None:
    """The working-day calendar: State Council holiday notices by year.

    Example: citygrowth calendar load 2027.yaml && citygrowth calendar show 2027
    """


@calendar.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace the year's notice if one is loaded.")
@click.option("--title", default="", help="Title of the notice (CSV files have none).")
@click.option("--document", default="", help="Document number, e.g. 国办发明电〔2026〕12号.")
@pass_ctx
def load(cx: CliContext, file: Path, replace: bool, title: str, document: str) -> None:
    """Load a year's holiday notice from FILE (YAML, JSON or CSV; see docs/operating.md).

    Example: citygrowth calendar load 2027.yaml
    """
    notice = parse_file(file.read_bytes(), file.name, title, document)
    with cx.session() as session:
        result = service.load_notice(session, system_actor("cli"), notice, replace=replace,
                                     runtime=cx.runtime)
    click.echo(_("Loaded the {year} notice: {holidays} holidays, {workdays} make-up working "
                 "days.").format(year=result.year, holidays=result.holidays,
                                 workdays=result.workdays))
    if result.recomputed:
        click.echo(_("Recomputed the deadlines of {n} open cases.").format(n=result.recomputed))


@calendar.command("show")
@click.argument("year", type=click.IntRange(1900, 2200), required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "yaml", "json"]), default="table",
              show_default=True, help="yaml prints a file `calendar load` reads back.")
@pass_ctx
def show(cx: CliContext, year: int | None, fmt: str) -> None:
    """Show a year's holidays and make-up working days, or which years are known.

    Example: citygrowth calendar show 2027
    """
    actor = system_actor("cli")
    with cx.session() as session:
        if year is None:
            rows = service.overview(session, actor, cx.runtime.today())
            if fmt == "json":
                click.echo(json.dumps(rows, ensure_ascii=False, default=str, indent=1))
                return
            table = Table(_("Year"), _("Holidays from"))
            for r in rows:
                table.add_row(str(r["year"]), r["source_label"],
                              style=None if r["known"] else "bold red")
            console.print(table)
            return
        if fmt == "yaml":
            click.echo(to_yaml(service.as_notice(session, actor, year)), nl=False)
            return
        view = service.year_view(session, actor, year)
    if fmt == "json":
        click.echo(json.dumps(view, ensure_ascii=False, default=str, indent=1))
        return
    console.print(f"[bold]{year}[/bold] · {view['source_label']}"
                  + (f" · {view['title']}" if view["title"] else ""))
    if not view["known"]:
        console.print(_("The holidays of {year} are not known: load its notice "
                        "(citygrowth calendar load).").format(year=year), style="bold red")
        return
    table = Table(_("Festival"), _("Days off"), _("Days"), title=_("Holidays"))
    for h in view["holidays"]:
        span = h["start"].isoformat() if h["days"] == 1 else \
            f"{h['start'].isoformat()} – {h['end'].isoformat()}"
        table.add_row(h["name"], span, str(h["days"]))
    console.print(table)
    table = Table(_("Festival"), _("Day"), title=_("Make-up working days"))
    for w in view["workdays"]:
        table.add_row(w["name"], w["day"].isoformat())
    console.print(table)
    console.print(_("{n} working days in {year}.").format(n=view["working_days"], year=year))


@calendar.command("remove")
@click.argument("year", type=click.IntRange(1900, 2200))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def remove(cx: CliContext, year: int, yes: bool) -> None:
    """Remove a loaded notice (the year falls back to the package or to Monday–Friday).

    Example: citygrowth calendar remove 2027 --yes
    """
    if not yes:
        click.confirm(_("Remove the {year} notice?").format(year=year), abort=True)
    with cx.session() as session:
        n = service.remove_notice(session, system_actor("cli"), year, runtime=cx.runtime)
    click.echo(_("Removed the {year} notice.").format(year=year))
    if n:
        click.echo(_("Recomputed the deadlines of {n} open cases.").format(n=n))
