"""``citygrowth accountability …``: imports, exports, measures and reminders (thin commands)."""

from __future__ import annotations

from pathlib import Path

import click

from citygrowth.accountability import excel, tables, updates
from citygrowth.accountability.measures import publish_measures
from citygrowth.accountability.targets import REMINDER_DAYS, send_reminders
from citygrowth.auth.actor import system_actor
from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.i18n import _
from citygrowth.web.render import columns, csv_text, xlsx_bytes


@click.group()
def accountability() -> None:
    """Targets, key projects, approvals and the investment desk.

    Example: citygrowth accountability import-targets targets.xlsx
    """


def _import(cx: CliContext, file: Path, kind: str) -> None:
    fn = excel.import_targets if kind == "targets" else excel.import_projects
    with cx.session() as session:
        result = fn(session, system_actor("cli"), file.read_bytes(), file.name)
    click.echo(_("Imported {file}: {created} created, {updated} updated.").format(
        file=file.name, created=result.created, updated=result.updated))


@accountability.command("import-targets")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def import_targets(cx: CliContext, file: Path) -> None:
    """Create or update targets from an Excel workbook; nothing is written if a row is bad.

    Example: citygrowth accountability import-targets targets.xlsx
    """
    _import(cx, file, "targets")


@accountability.command("import-projects")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def import_projects(cx: CliContext, file: Path) -> None:
    """Create or update key projects from an Excel workbook; all or nothing.

    Example: citygrowth accountability import-projects projects.xlsx
    """
    _import(cx, file, "projects")


@accountability.command("import-updates")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def import_updates(cx: CliContext, file: Path) -> None:
    """Apply key-project updates (investment, milestones, stage, problems) from a workbook
    made from the template; nothing is written if a row is bad.

    Example: citygrowth accountability import-updates project-updates.xlsx
    """
    with cx.session() as session:
        result = updates.import_updates(session, system_actor("cli"), file.read_bytes(),
                                        file.name, cx.runtime.today())
    click.echo(_("Imported {total} update(s).").format(total=sum(result.applied.values())))


@accountability.command("updates-template")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The .xlsx file to write.")
@pass_ctx
def updates_template(cx: CliContext, output: Path) -> None:
    """Write the key-project updates workbook, prefilled with every project and its open
    milestones.

    Example: citygrowth accountability updates-template -o project-updates.xlsx
    """
    with cx.session() as session:
        output.write_bytes(updates.template(session, system_actor("cli"),
                                            cx.runtime.today()))
    click.echo(_("Wrote {file}.").format(file=output))


@accountability.command("export")
@click.argument("kind", type=click.Choice(tables.KINDS))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write; .xlsx for Excel, .csv for CSV.")
@pass_ctx
def export(cx: CliContext, kind: str, output: Path) -> None:
    """Export targets, projects, approvals or leads to Excel (.xlsx) or CSV.

    Example: citygrowth accountability export projects -o projects.xlsx
    """
    today = cx.runtime.today()
    with cx.session() as session:
        cols, rows = tables.table(session, system_actor("cli"), kind, today,
                                  cx.settings.timezone)
        if output.suffix.lower() == ".csv":
            output.write_text(csv_text(columns(*cols), rows), encoding="utf-8")
        else:
            output.write_bytes(xlsx_bytes(columns(*cols), rows, kind))
    click.echo(_("Wrote {file}.").format(file=output))


@accountability.command("publish-measures")
@pass_ctx
def publish(cx: CliContext) -> None:
    """Write approval times, targets on track, key-project investment and landed leads into
    the observation store.

    Example: citygrowth accountability publish-measures
    """
    with cx.session() as session:
        counts = publish_measures(session, cx.runtime, system_actor("cli"), cx.runtime.today())
    for indicator, n in counts.items():
        click.echo(_("{indicator}: {n} rows").format(indicator=indicator, n=n))


@accountability.command("reminders")
@click.option("--days", default=REMINDER_DAYS, show_default=True, type=click.IntRange(0, 366),
              help="Look this many days ahead.")
@pass_ctx
def reminders(cx: CliContext, days: int) -> None:
    """List open milestones due soon (or overdue) per department and announce them on the bus.

    Example: citygrowth accountability reminders --days 14
    """
    with cx.session() as session:
        by_dept = send_reminders(session, system_actor("cli"),
                                 cx.runtime.today(), cx.bus, days)
    if not by_dept:
        click.echo(_("No milestones due in the next {days} days.").format(days=days))
    for dept, items in sorted(by_dept.items()):
        click.echo(f"{dept}:")
        for m in items:
            flag = _("overdue") if m["overdue"] else _("{n} days left").format(n=m["days_left"])
            click.echo(f"  {m['due_date']}  {m['target']} · {m['title']} ({flag})")
