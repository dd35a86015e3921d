"""``citygrowth framework``: which framework version is in force, publish one (new weights and
methods of the index), go back."""

from __future__ import annotations

from pathlib import Path

import click

from citygrowth.auth.actor import system_actor
from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.errors import ValidationFailed
from citygrowth.i18n import _
from citygrowth.index.publish import framework_status, publish_framework, reset_framework
from citygrowth.index.service import compute_index


@click.group("framework")
def framework() -> None:
    """The district's indicator framework: show, publish a new version, reset.

    Example: citygrowth framework publish CGI-2026.2.yaml
    """


@framework.command("show")
@pass_ctx
def show(cx: CliContext) -> None:
    """Print the framework version in force and every published version kept.

    Example: citygrowth framework show
    """
    st = framework_status(cx.runtime)
    origin = _("published") if st["published"] else _("built-in")
    click.echo(_("Framework {code} version {version} ({origin}).").format(
        code=st["code"], version=st["version"], origin=origin))
    click.echo(_("Published versions: {versions}").format(
        versions=", ".join(st["versions"]) or "-"))


@framework.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--compute/--no-compute", default=True, show_default=True,
              help="Compute the index with the new version right away.")
@pass_ctx
def publish(cx: CliContext, file: Path, compute: bool) -> None:
    """Make FILE (e.g. a workbench export) the district's framework, after checking it.

    Example: citygrowth framework publish CGI-2026.2.yaml
    """
    text = file.read_text(encoding="utf-8")
    with cx.session() as s:
        fw = publish_framework(s, cx.runtime, system_actor("cli"), text)
    click.echo(_("Framework {code} version {version} is now in force.").format(
        code=fw.code, version=fw.version))
    if compute:
        _compute(cx)


@framework.command("reset")
@click.option("--compute/--no-compute", default=True, show_default=True,
              help="Compute the index with the built-in version right away.")
@pass_ctx
def reset(cx: CliContext, compute: bool) -> None:
    """Go back to the built-in framework (published versions are kept).

    Example: citygrowth framework reset
    """
    with cx.session() as s:
        fw = reset_framework(s, cx.runtime, system_actor("cli"))
    click.echo(_("Framework {code} version {version} is now in force.").format(
        code=fw.code, version=fw.version))
    if compute:
        _compute(cx)


def _compute(cx: CliContext) -> None:
    try:
        with cx.session() as s:
            run = compute_index(s, cx.runtime, system_actor("cli"))
    except ValidationFailed as exc:  # no observations yet: nothing to compute
        click.echo(exc.render_message())
        return
    click.echo(_("Index run {id}: vintage {vintage}, {rows} rows.").format(
        id=run.id, vintage=run.vintage, rows=run.rows))
