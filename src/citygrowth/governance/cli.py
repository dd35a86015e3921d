"""``citygrowth cases …``: taxonomy, escalation, evaluation, and a look at the queues."""

from __future__ import annotations

import click

from citygrowth.auth.actor import system_actor
from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.i18n import _


@click.group()
def cases() -> None:
    """Grid cases: taxonomy, escalation of overdue cases, monthly evaluation.

    Example: citygrowth cases evaluate --month 2026-10
    """


@cases.command("taxonomy")
@pass_ctx
def taxonomy_cmd(cx: CliContext) -> None:
    """Add the default (and plugins') case categories that are missing; list them.

    Example: citygrowth cases taxonomy
    """
    from citygrowth.governance.taxonomy import ensure_taxonomy, leaf_categories

    with cx.session() as s:
        added = ensure_taxonomy(s)
        for c in leaf_categories(s):
            click.echo(f"{c.code}\t{c.kind}\t{c.name_zh}\t{c.name_en}\t"
                       f"{c.department_code or '-'}\t{c.time_limit_hours or '-'}")
    click.echo(_("{n} categories added.").format(n=added))


@cases.command("escalate")
@pass_ctx
def escalate_cmd(cx: CliContext) -> None:
    """Escalate cases past their handling deadline (also a scheduled job).

    Example: citygrowth cases escalate
    """
    from citygrowth.governance.service import escalate_overdue

    with cx.session() as s:
        n = escalate_overdue(s, system_actor("escalation"), bus=cx.bus)
    click.echo(_("{n} cases escalated.").format(n=n))


@cases.command("evaluate")
@click.option("--month", "months", multiple=True, required=True,
              help="Month to evaluate, like 2026-10 (repeatable).")
@click.option("--no-store", is_flag=True, help="Print the table only; do not load indicators.")
@pass_ctx
def evaluate_cmd(cx: CliContext, months: tuple[str, ...], no_store: bool) -> None:
    """Evaluate departments, streets and grid cells for months and load the indicators.

    Example: citygrowth cases evaluate --month 2026-10
    """
    from citygrowth.governance.evaluation import evaluate, write_evaluation

    with cx.session() as s:
        table = evaluate(s, system_actor("cli"), list(months))
        click.echo(table.to_csv(index=False), nl=False)
        if not no_store:
            n = write_evaluation(s, cx.settings, list(months), bus=cx.bus)
            click.echo(_("{n} observations written.").format(n=n))


@cases.command("queues")
@click.option("--area", default=None, help="Area-code prefix (a street), default: all.")
@pass_ctx
def queues_cmd(cx: CliContext, area: str | None) -> None:
    """Print case counts per status and queue (overdue, warning, supervised, pending).

    Example: citygrowth cases queues --area 370203001
    """
    from citygrowth.governance.service import queue_counts

    with cx.session() as s:
        for k, v in queue_counts(s, system_actor("cli"), area).items():
            click.echo(f"{k}\t{v}")
