"""``citygrowth cases …``: taxonomy, escalation, evaluation, a look at the queues, and the
administration of case categories and dispatch rules."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import click

from citygrowth.auth.actor import system_actor
from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.governance.cli_support import options_named
from citygrowth.governance.delivery.cli import channels, deliver, deliveries
from citygrowth.governance.helpers_cli import helpers_group
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
    from citygrowth.governance.taxonomy import (  # lazy: keeps citygrowth --help fast
        ensure_taxonomy,
        leaf_categories,
    )

    with cx.session() as s:
        added = ensure_taxonomy(s, cx.runtime)
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
    from citygrowth.governance.service import escalate_overdue  # lazy: keeps citygrowth --help fast

    with cx.session() as s:
        n = escalate_overdue(s, system_actor("escalation"), cx.runtime)
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
    from citygrowth.governance.evaluation import (  # lazy: keeps citygrowth --help fast
        evaluate,
        write_evaluation,
    )

    with cx.session() as s:
        table = evaluate(s, system_actor("cli"), list(months), cx.runtime.calendar)
        click.echo(table.to_csv(index=False), nl=False)
        if not no_store:
            n = write_evaluation(s, cx.runtime, list(months))
            click.echo(_("{n} observations written.").format(n=n))


@cases.command("media-cleanup")
@pass_ctx
def media_cleanup_cmd(cx: CliContext) -> None:
    """Remove photos uploaded but never used on a case within a day, and stray photo files
    (also a scheduled job, hourly).

    Example: citygrowth cases media-cleanup
    """
    from citygrowth.governance.media import remove_orphans  # lazy: keeps citygrowth --help fast

    with cx.session() as s:
        n = remove_orphans(s, cx.runtime.settings.store_dir, cx.runtime.now())
    click.echo(_("{n} unused photos removed.").format(n=n))


@cases.command("queues")
@click.option("--area", default=None, help="Area-code prefix (a street), default: all.")
@pass_ctx
def queues_cmd(cx: CliContext, area: str | None) -> None:
    """Print case counts per status and queue (overdue, warning, supervised, pending).

    Example: citygrowth cases queues --area 370203001
    """
    from citygrowth.governance.service import queue_counts  # lazy: keeps citygrowth --help fast

    with cx.session() as s:
        for k, v in queue_counts(s, system_actor("cli"), area).items():
            click.echo(f"{k}\t{v}")


@cases.command("recount")
@click.option("--check", is_flag=True,
              help="Only compare the kept counts with the cases; exit 1 if they differ.")
@pass_ctx
def recount_cmd(cx: CliContext, check: bool) -> None:
    """Recount the kept case counts from the cases, or only compare them (--check).

    Needed after a bulk load written with the database triggers switched off.

    Example: citygrowth cases recount --check
    """
    from citygrowth.governance import counts  # lazy: keeps citygrowth --help fast

    with cx.session() as s:
        drift = counts.drift(s.connection())
        if check:
            for row in drift[:20]:
                click.echo("\t".join(f"{k}={v}" for k, v in row.items()))
            click.echo(_("{n} counts differ from the cases.").format(n=len(drift)))
            if drift:
                raise SystemExit(1)
            return
        rows = counts.rebuild(s.connection())
        s.commit()
    click.echo(_("{n} counts differed; {rows} rows written.").format(n=len(drift), rows=rows))


# --- administration of the taxonomy and the dispatch rules (as on /admin pages) --------------

#: The services name a bad field as the API and the pages do; here it is the option to fix.
OPTION_OF = {"code": "CODE", "parent_code": "--parent", "name_zh": "--name-zh",
             "name_en": "--name-en", "department_code": "--department",
             "time_limit_hours": "--hours", "category_code": "--category",
             "area_prefix": "--area", "priority": "--priority", "note": "--note",
             "after_photo_required": "--after-photo"}


def _options_named() -> AbstractContextManager[None]:
    return options_named(OPTION_OF)


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


@cases.group("categories")
def categories() -> None:
    """Case categories (大类 and 小类): list, add, change, deactivate, reactivate — the same
    checks and audit entries as the administration pages. Nothing is ever deleted.

    Example: citygrowth cases categories add E0105 --parent E01 --name-zh 占道堆物 --hours 24
    """


@categories.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include deactivated categories.")
@pass_ctx
def categories_list(cx: CliContext, show_all: bool) -> None:
    """List categories as code, kind, Chinese and English name, department, time limit
    (working hours) and state, each 小类 under its 大类.

    Example: citygrowth cases categories list --all
    """
    from citygrowth.governance.admin import category_tree  # lazy: keeps citygrowth --help fast

    with cx.session() as s:
        for node in category_tree(s, system_actor("cli")):
            for cat in (node.category, *node.children):
                if not (show_all or cat.active):
                    continue
                indent = "  " if cat.parent_code else ""
                state = _("active") if cat.active else _("deactivated")
                photo = _("after-photo") if cat.after_photo_required else "-"
                click.echo(f"{indent}{cat.code}\t{cat.kind}\t{cat.name_zh}\t{cat.name_en or '-'}"
                           f"\t{cat.department_code or '-'}\t{_hours(cat.time_limit_hours)}"
                           f"\t{photo}\t{state}")


@categories.command("add")
@click.argument("code")
@click.option("--parent", default="", help="The 大类 of a new 小类 (none for a new 大类).")
@click.option("--name-zh", required=True, help="Chinese name.")
@click.option("--name-en", default="", help="English name.")
@click.option("--department", default="", help="Default handling department's code.")
@click.option("--hours", default="", help="Handling limit in working hours (0 < h ≤ 1000); "
              "none: the 大类's.")
@click.option("--after-photo/--no-after-photo", default=False,
              help="处置反馈 must carry a photo of the result (default: no).")
@pass_ctx
def categories_add(cx: CliContext, code: str, parent: str, name_zh: str, name_en: str,
                   department: str, hours: str, after_photo: bool) -> None:
    """Add a 大类 (code C or E and two digits) or a 小类 (its 大类's code and two digits).

    Example: citygrowth cases categories add E0105 --parent E01 --name-zh 占道堆物 --hours 24
    """
    from citygrowth.governance.admin import create_category  # lazy: keeps citygrowth --help fast

    with cx.session() as s, _options_named():
        cat = create_category(s, system_actor("cli"), {
            "code": code, "parent_code": parent, "name_zh": name_zh, "name_en": name_en,
            "department_code": department, "time_limit_hours": hours,
            "after_photo_required": after_photo})
        click.echo(_("Category {code} added.").format(code=cat.code))


@categories.command("set")
@click.argument("code")
@click.option("--name-zh", default=None, help="Chinese name.")
@click.option("--name-en", default=None, help="English name.")
@click.option("--department", default=None, help="Default handling department ('' clears).")
@click.option("--hours", default=None, help="Handling limit in working hours ('' clears).")
@click.option("--after-photo/--no-after-photo", default=None,
              help="Whether 处置反馈 must carry a photo of the result.")
@pass_ctx
def categories_set(cx: CliContext, code: str, name_zh: str | None, name_en: str | None,
                   department: str | None, hours: str | None, after_photo: bool | None) -> None:
    """Change a category's names, default department, time limit or after-photo requirement;
    what is not given stays.

    Example: citygrowth cases categories set E0101 --department urban --hours 48 --after-photo
    """
    from citygrowth.governance.admin import (  # lazy: keeps citygrowth --help fast
        EDITABLE,
        get_any_category,
        update_category,
    )

    actor = system_actor("cli")
    with cx.session() as s, _options_named():
        cat = get_any_category(s, actor, code.upper())
        data = {k: getattr(cat, k) for k in EDITABLE}
        given = {"name_zh": name_zh, "name_en": name_en, "department_code": department,
                 "time_limit_hours": hours, "after_photo_required": after_photo}
        data.update({k: v for k, v in given.items() if v is not None})
        data = {k: "" if v is None else v for k, v in data.items()}
        update_category(s, actor, cat.code, data)
        click.echo(_("Category {code} changed.").format(code=cat.code))


def _set_active(cx: CliContext, code: str, active: bool) -> None:
    from citygrowth.governance.admin import (  # lazy: keeps citygrowth --help fast
        set_category_active,  # lazy: keeps citygrowth --help fast
    )

    with cx.session() as s:
        cat = set_category_active(s, system_actor("cli"), code.upper(), active)
        msg = _("Category {code} reactivated.") if active else \
            _("Category {code} deactivated.") if cat.parent_code else \
            _("Category {code} deactivated (with its sub-categories).")
        click.echo(msg.format(code=cat.code))


@categories.command("deactivate")
@click.argument("code")
@pass_ctx
def categories_deactivate(cx: CliContext, code: str) -> None:
    """Deactivate a category (a 大类 with all its 小类): new reports of it are refused.

    Example: citygrowth cases categories deactivate E0104
    """
    _set_active(cx, code, False)


@categories.command("reactivate")
@click.argument("code")
@pass_ctx
def categories_reactivate(cx: CliContext, code: str) -> None:
    """Reactivate a category (a 小类 needs its 大类 active).

    Example: citygrowth cases categories reactivate E0104
    """
    _set_active(cx, code, True)


@cases.group("rules")
def rules() -> None:
    """Dispatch rules: category (小类, 大类 or any) × area-code prefix → handling department;
    the most specific category wins, then the longest area prefix, then the highest priority.

    Example: citygrowth cases rules add --category E01 --area 370203001 --department urban
    """


@rules.command("list")
@pass_ctx
def rules_list(cx: CliContext) -> None:
    """List the rules as id, category, area prefix, department, priority and note.

    Example: citygrowth cases rules list
    """
    from citygrowth.governance.dispatch import list_rules  # lazy: keeps citygrowth --help fast

    with cx.session() as s:
        for r in list_rules(s, system_actor("cli")):
            click.echo(f"{r.id}\t{r.category_code or '*'}\t{r.area_prefix or '*'}"
                       f"\t{r.department_code}\t{r.priority}\t{r.note or ''}")


def _rule_options(f: Any) -> Any:
    for option in reversed((
            click.option("--category", default=None, help="小类 or 大类 code ('' = any)."),
            click.option("--area", default=None, help="Area-code prefix ('' = the district)."),
            click.option("--department", default=None, help="Handling department's code."),
            click.option("--priority", default=None, help="Between -1000 and 1000."),
            click.option("--note", default=None, help="Why the rule exists."))):
        f = option(f)
    return f


def _rule_data(base: dict[str, Any], category: str | None, area: str | None,
               department: str | None, priority: str | None, note: str | None) -> dict[str, Any]:
    given = {"category_code": category, "area_prefix": area, "department_code": department,
             "priority": priority, "note": note}
    return {**base, **{k: v for k, v in given.items() if v is not None}}


@rules.command("add")
@_rule_options
@pass_ctx
def rules_add(cx: CliContext, category: str | None, area: str | None, department: str | None,
              priority: str | None, note: str | None) -> None:
    """Add a rule (a department is required).

    Example: citygrowth cases rules add --category E01 --area 370203001 --department urban
    """
    from citygrowth.governance.dispatch import add_rule  # lazy: keeps citygrowth --help fast

    with cx.session() as s, _options_named():
        rule = add_rule(s, system_actor("cli"),
                        _rule_data({}, category, area, department, priority, note))
        click.echo(_("Dispatch rule {id} added.").format(id=rule.id))


@rules.command("set")
@click.argument("rule_id", type=int)
@_rule_options
@pass_ctx
def rules_set(cx: CliContext, rule_id: int, category: str | None, area: str | None,
              department: str | None, priority: str | None, note: str | None) -> None:
    """Change a rule; what is not given stays.

    Example: citygrowth cases rules set 3 --priority 10
    """
    from citygrowth.governance.dispatch import (  # lazy: keeps citygrowth --help fast
        get_rule,
        rule_dict,
        update_rule,
    )

    actor = system_actor("cli")
    with cx.session() as s, _options_named():
        base = rule_dict(get_rule(s, actor, rule_id))
        update_rule(s, actor, rule_id,
                    _rule_data(base, category, area, department, priority, note))
        click.echo(_("Dispatch rule {id} changed.").format(id=rule_id))


@rules.command("remove")
@click.argument("rule_id", type=int)
@pass_ctx
def rules_remove(cx: CliContext, rule_id: int) -> None:
    """Remove a rule (the audit log keeps what it was).

    Example: citygrowth cases rules remove 3
    """
    from citygrowth.governance.dispatch import delete_rule  # lazy: keeps citygrowth --help fast

    with cx.session() as s:
        delete_rule(s, system_actor("cli"), rule_id)
        click.echo(_("Dispatch rule {id} removed.").format(id=rule_id))


cases.add_command(channels)
cases.add_command(deliveries)
cases.add_command(deliver)
cases.add_command(helpers_group)
