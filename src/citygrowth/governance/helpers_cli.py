"""``citygrowth cases helpers …``: the register of helpers (党员帮办) and their hours, as on
``/help/helpers`` and ``/help/report``."""

from __future__ import annotations

import click

from citygrowth.auth.actor import system_actor
from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.governance import helpers
from citygrowth.governance.cli_support import options_named
from citygrowth.governance.evaluation import month_bounds, parse_month
from citygrowth.i18n import _

OPTION_OF = {"username": "USERNAME", "area_code": "--grid", "kind": "--kind",
             "label": "--name", "skills": "--skill"}


@click.group("helpers")
def helpers_group() -> None:
    """Helpers (党员帮办): register them with their grid cell and skills, list them, report
    their hours per helper and community.

    Example: citygrowth cases helpers register helper --grid 370203001001001 --name 王芳
    """


@helpers_group.command("list")
@pass_ctx
def helpers_list(cx: CliContext) -> None:
    """List active helpers: id, name, kind, grid cell, skills.

    Example: citygrowth cases helpers list
    """
    with cx.session() as s:
        for h in helpers.list_helpers(s, system_actor("cli")):
            click.echo(f"{h.id}\t{h.label}\t{h.kind}\t{h.area_code}\t"
                       f"{','.join(h.skills or []) or '-'}")


@helpers_group.command("register")
@click.argument("username")
@click.option("--grid", required=True, help="The grid cell's code (15 digits).")
@click.option("--name", required=True, help="The helper's name as staff know it.")
@click.option("--kind", type=click.Choice(sorted(helpers.HELPER_KINDS)), default="volunteer",
              help="Party member or volunteer.")
@click.option("--skill", "skills", multiple=True,
              help=f"A skill (repeatable): {', '.join(helpers.SKILLS)}.")
@pass_ctx
def helpers_register(cx: CliContext, username: str, grid: str, name: str, kind: str,
                     skills: tuple[str, ...]) -> None:
    """Register a login (with the helper role in that grid cell) as a helper; registering
    again changes the registration.

    Example: citygrowth cases helpers register helper --grid 370203001001001 --name 王芳
    """
    with cx.session() as s, options_named(OPTION_OF):
        uid = helpers.find_user(s, username)
        h = helpers.register_helper(s, system_actor("cli"), grid, kind, name, uid, skills)
        click.echo(_("Helper {id} registered.").format(id=h.id))


@helpers_group.command("deactivate")
@click.argument("helper_id", type=int)
@pass_ctx
def helpers_deactivate(cx: CliContext, helper_id: int) -> None:
    """End a helper's registration (their done tasks and hours stay).

    Example: citygrowth cases helpers deactivate 12
    """
    with cx.session() as s:
        helpers.deactivate_helper(s, system_actor("cli"), helper_id)
        click.echo(_("Helper {id} deactivated.").format(id=helper_id))


@helpers_group.command("report")
@click.option("--from", "first", required=True, help="First month, like 2026-01.")
@click.option("--to", "last", required=True, help="Last month, like 2026-12.")
@click.option("--by", type=click.Choice(["helper", "community"]), default="helper",
              help="One row per helper or per community.")
@pass_ctx
def helpers_report(cx: CliContext, first: str, last: str, by: str) -> None:
    """Tasks done and hours per helper (or community) in a range of months, as CSV.

    Example: citygrowth cases helpers report --from 2026-01 --to 2026-11 --by community
    """
    lo, hi = month_bounds([parse_month(first), parse_month(last)], cx.runtime.tz)
    with cx.session() as s:
        per_helper, per_community = helpers.hours_report(s, system_actor("cli"), lo, hi)
    click.echo("code,name,community,tasks,hours" + (",helpers" if by == "community" else ""))
    for r in per_helper if by == "helper" else per_community:
        extra = f",{r.helpers}" if by == "community" else ""
        click.echo(f"{r.code},{r.name},{r.community},{r.tasks},{r.hours:g}{extra}")
