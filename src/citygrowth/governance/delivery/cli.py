"""``citygrowth cases channels …``, ``cases deliveries`` and ``cases deliver``: departments'
delivery channels (as on ``/admin/cases/channels``), the send records, and one run of the
delivery job for deployments that use cron instead of the in-process scheduler."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import click

from citygrowth.auth.actor import system_actor
from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.governance.cli_support import options_named
from citygrowth.governance.delivery import admin, service
from citygrowth.governance.display import local_text
from citygrowth.i18n import _

OPTION_OF = {"department_code": "DEPARTMENT", "channel": "CHANNEL", "target": "--target"}


def _installed(cx: CliContext) -> list[str]:
    return sorted(service.channels(cx.runtime))


@click.group("channels")
def channels() -> None:
    """Departments' delivery channels besides the in-app inbox: webhook (a signed JSON POST),
    e-mail, or a plugin's channel.

    Example: citygrowth cases channels set urban webhook --target https://urban.example.cn/hook
    """


@channels.command("list")
@pass_ctx
def channels_list(cx: CliContext) -> None:
    """List channels as department, channel, target, active, signed; then the installed ones.

    Example: citygrowth cases channels list
    """
    with cx.session() as s:
        for c in admin.list_channels(s, system_actor("cli")):
            click.echo(f"{c.department_code}\t{c.channel}\t{c.target}\t"
                       f"{_('active') if c.active else _('off')}\t"
                       f"{_('signed') if c.secret else '-'}")
    click.echo(_("Installed channels: {names}").format(names=", ".join(_installed(cx))))


@channels.command("set")
@click.argument("department")
@click.argument("channel")
@click.option("--target", default="", help="The webhook's URL, e-mail addresses (comma "
              "separated), or what a plugin's channel expects.")
@click.option("--off", is_flag=True, help="Keep the channel but stop delivering through it.")
@click.option("--new-secret", is_flag=True, help="Give a webhook a new signing secret.")
@pass_ctx
def channels_set(cx: CliContext, department: str, channel: str, target: str, off: bool,
                 new_secret: bool) -> None:
    """Add or change a department's channel; a webhook's signing secret is printed once.

    Example: citygrowth cases channels set urban email --target duty@urban.example.cn
    """
    with cx.session() as s, options_named(OPTION_OF):
        out = admin.set_channel(s, system_actor("cli"), department, channel, target,
                                _installed(cx), active=not off, new_secret=new_secret)
        click.echo(_("Channel {channel} of {department} saved.").format(
            channel=out.channel.channel, department=out.channel.department_code))
        if out.secret:
            click.echo(_("Signing secret (shown only now): {secret}").format(secret=out.secret))


@channels.command("remove")
@click.argument("department")
@click.argument("channel")
@pass_ctx
def channels_remove(cx: CliContext, department: str, channel: str) -> None:
    """Remove a department's channel (the audit log keeps what it was).

    Example: citygrowth cases channels remove urban email
    """
    with cx.session() as s:
        admin.remove_channel(s, system_actor("cli"), department, channel)
        click.echo(_("Channel {channel} of {department} removed.").format(
            channel=channel, department=department))


@click.command("deliveries")
@click.option("--state", type=click.Choice(["pending", "sent", "failed"]), default=None,
              help="Only records in this state.")
@click.option("--problems", is_flag=True, help="Only failed records and those retrying.")
@click.option("--case", "case_id", type=int, default=None, help="Only this case's records.")
@pass_ctx
def deliveries(cx: CliContext, state: str | None, problems: bool, case_id: int | None) -> None:
    """List deliveries to departments: id, case, step, department, channel, state, attempts,
    next attempt (local time), last error.

    Example: citygrowth cases deliveries --problems
    """
    tz = ZoneInfo(cx.settings.timezone)
    with cx.session() as s:
        for d in service.list_deliveries(s, system_actor("cli"), state=state,
                                         problems=problems, case_id=case_id, limit=1000):
            click.echo(f"{d.id}\t{d.case_id}\t{d.action}\t{d.department_code}\t{d.channel}\t"
                       f"{d.state}\t{d.attempts}\t{local_text(d.next_attempt_at, tz) or '-'}\t"
                       f"{d.last_error or '-'}")


@click.command("deliver")
@pass_ctx
def deliver(cx: CliContext) -> None:
    """Send the deliveries that are due now (the scheduled job's work, for cron).

    Example: citygrowth cases deliver
    """
    out = service.deliver_due(cx.sessionmaker, cx.settings,
                              service.channels(cx.runtime))
    click.echo(_("{sent} sent, {retrying} to retry, {failed} failed.").format(
        sent=out.sent, retrying=out.retrying, failed=out.failed))
