"""``citygrowth backup`` and ``citygrowth restore`` (see ``citygrowth.ops.backup``)."""

from __future__ import annotations

from pathlib import Path

import click

from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.cli.progress import stage_bars
from citygrowth.i18n import N_, _, translate
from citygrowth.ops.backup import backup as take_backup
from citygrowth.ops.backup import list_backups, verify_backup
from citygrowth.ops.restore import restore as do_restore

STAGES = {"database": N_("Database"), "files": N_("Files"), "verify": N_("Checking the backup")}
BYTE_STAGES = frozenset({"files", "verify"})
KINDS = {"observations": N_("observation batches"), "results": N_("index result files"),
         "briefings": N_("briefing files"), "uploads": N_("uploads"),
         "frameworks": N_("framework files")}


@click.command("backup")
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
@click.option("--keep", type=click.IntRange(1, 3650), default=None,
              help="Keep only the newest N backups in DESTINATION.")
@pass_ctx
def backup(cx: CliContext, destination: Path, keep: int | None) -> None:
    """Take a consistent snapshot of the database and the data folder into DESTINATION,
    while the application keeps running (see docs/operating.md, "Backup and restore").

    Example: citygrowth backup /var/backups/citygrowth --keep 14
    """
    with stage_bars(STAGES, BYTE_STAGES) as report:
        result = take_backup(cx.settings, destination, report, keep=keep)
    m = result.manifest
    click.echo(_("Backup written to {path}").format(path=result.folder))
    click.echo(_("{tables} tables, {rows} rows; {files} files").format(
        tables=len(m.tables), rows=sum(m.tables.values()), files=len(m.files)))
    for kind, n in m.summary.items():
        click.echo(f"  {translate(KINDS[kind])}: {n}")
    for rel in m.missing:
        click.echo(_("Warning: {path} is referred to by the database but missing from the "
                     "data folder").format(path=rel), err=True)
    for path in result.removed:
        click.echo(_("Removed the old backup {path}").format(path=path))


@click.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--check-only", is_flag=True,
              help="Only check the backup against its manifest; restore nothing.")
@pass_ctx
def restore(cx: CliContext, folder: Path, check_only: bool) -> None:
    """Restore the backup FOLDER into an empty data folder and an empty database (those of
    the settings in force), then verify row counts and checksums.

    FOLDER may also be the backup destination: its newest backup is taken.

    Example: citygrowth restore /var/backups/citygrowth/citygrowth-20270101T023000000000Z
    """
    if not (folder / "manifest.json").is_file() and list_backups(folder):
        folder = list_backups(folder)[-1]
    with stage_bars(STAGES, BYTE_STAGES) as report:
        if check_only:
            m = verify_backup(folder, report)
        else:
            result = do_restore(cx.settings, folder, report)
            m = result.manifest
    if check_only:
        click.echo(_("The backup {path} is complete: {files} files and the database match "
                     "the manifest.").format(path=folder, files=len(m.files)))
        return
    click.echo(_("Restored {path}: {tables} tables, {rows} rows and {files} files, all "
                 "matching the manifest.").format(path=folder, tables=len(result.tables),
                                                  rows=sum(result.tables.values()),
                                                  files=result.files))
    if result.needs_upgrade:
        click.echo(_("The backup was made with another schema version: run `citygrowth init` "
                     "to bring the database to this version."))
