"""``citygrowth user …`` (also ``users``) and ``citygrowth audit …``: thin commands over the
auth services. They run as the system actor: whoever can run them owns the server."""

from __future__ import annotations

import sys
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.table import Table

from citygrowth.auth import service as svc
from citygrowth.auth.actor import ROLES, system_actor
from citygrowth.auth.audit import anchor_key
from citygrowth.cli.context import CliContext, pass_ctx
from citygrowth.i18n import _, translate

CLI_ACTOR = system_actor("cli")
out = Console()


def _password(from_stdin: bool, required: bool) -> str | None:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        return line or None
    if not required:
        return None
    return str(click.prompt(_("Password"), hide_input=True, confirmation_prompt=True))


@click.group("user")
def user() -> None:
    """Manage users, their roles and API keys.

    Example: citygrowth user add li.na --role street_commander --area 370203001
    """


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(ROLES)), help="Role to grant.")
@click.option("--area", "area_code", required=True, help="Area code the role is scoped to.")
@click.option("--department", "department_code", default=None,
              help="Department code (for department officers).")
@click.option("--display-name", default="", help="Name shown in the interface.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
@pass_ctx
def user_add(cx: CliContext, username: str, role: str, area_code: str,
             department_code: str | None, display_name: str, password_stdin: bool) -> None:
    """Create a user with one role. Machine clients get no password (use `user key create`).

    Example: citygrowth user add wang --role analyst --area 370203 --password-stdin < pw.txt
    """
    password = _password(password_stdin, required=role != "machine")
    with cx.session() as session:
        svc.create_user(session, CLI_ACTOR, username,
                        [svc.GrantInput(role, area_code, department_code)], password,
                        display_name)
    click.echo(_("User {username} created.").format(username=username))


@user.command("list")
@pass_ctx
def user_list(cx: CliContext) -> None:
    """List users with their roles.

    Example: citygrowth user list
    """
    table = Table(_("User name"), _("Name"), _("Active"), _("Roles"))
    with cx.session() as session:
        for u in svc.list_users(session, CLI_ACTOR):
            roles = ", ".join(f"{g.role}@{g.area_code}"
                              + (f"/{g.department_code}" if g.department_code else "")
                              for g in u.grants)
            table.add_row(u.username, u.display_name, "✓" if u.active else "✗", roles)
    out.print(table)


@user.command("grant")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(ROLES)), help="Role to grant.")
@click.option("--area", "area_code", required=True, help="Area code the role is scoped to.")
@click.option("--department", "department_code", default=None, help="Department code.")
@pass_ctx
def user_grant(cx: CliContext, username: str, role: str, area_code: str,
               department_code: str | None) -> None:
    """Give a user another role within an area.

    Example: citygrowth user grant li.na --role grid_worker --area 370203001001001
    """
    with cx.session() as session:
        svc.grant_role(session, CLI_ACTOR, username,
                       svc.GrantInput(role, area_code, department_code))
    click.echo(_("Role {role} granted to {username} in {area}.").format(
        role=role, username=username, area=area_code))


@user.command("revoke")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(ROLES)), help="Role to revoke.")
@click.option("--area", "area_code", required=True, help="Area code of the grant.")
@click.option("--department", "department_code", default=None, help="Department code.")
@pass_ctx
def user_revoke(cx: CliContext, username: str, role: str, area_code: str,
                department_code: str | None) -> None:
    """Take a role away from a user.

    Example: citygrowth user revoke li.na --role grid_worker --area 370203001001001
    """
    with cx.session() as session:
        svc.revoke_role(session, CLI_ACTOR, username,
                        svc.GrantInput(role, area_code, department_code))
    click.echo(_("Role {role} revoked from {username} in {area}.").format(
        role=role, username=username, area=area_code))


@user.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
@pass_ctx
def user_password(cx: CliContext, username: str, password_stdin: bool) -> None:
    """Set a user's password.

    Example: echo 'n3w-pass-word' | citygrowth user password li.na --password-stdin
    """
    password = _password(password_stdin, required=True) or ""
    with cx.session() as session:
        svc.set_password(session, CLI_ACTOR, username, password)
    click.echo(_("Password of {username} changed.").format(username=username))


@user.command("deactivate")
@click.argument("username")
@pass_ctx
def user_deactivate(cx: CliContext, username: str) -> None:
    """Stop a user from logging in and from using API keys.

    Example: citygrowth user deactivate li.na
    """
    with cx.session() as session:
        svc.deactivate(session, CLI_ACTOR, username)
    click.echo(_("User {username} deactivated.").format(username=username))


@user.group("key")
def key() -> None:
    """Create and revoke API keys of department officers and machine clients.

    Example: citygrowth user key create platform --name city-platform
    """


@key.command("create")
@click.argument("username")
@click.option("--name", default="", help="What the key is for.")
@pass_ctx
def key_create(cx: CliContext, username: str, name: str) -> None:
    """Create an API key and print it; it is shown only this once.

    Example: citygrowth user key create stats --name monthly-upload
    """
    with cx.session() as session:
        secret = svc.create_api_key(session, CLI_ACTOR, username, name)
    click.echo(secret)


@key.command("list")
@click.argument("username")
@pass_ctx
def key_list(cx: CliContext, username: str) -> None:
    """List a user's API keys (id, prefix, name, revoked).

    Example: citygrowth user key list platform
    """
    table = Table("id", _("Prefix"), _("Name"), _("Revoked"), _("Last used"))
    with cx.session() as session:
        for k in svc.list_api_keys(session, CLI_ACTOR, username):
            table.add_row(str(k.id), k.prefix, k.name, "✓" if k.revoked else "",
                          k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else "")
    out.print(table)


@key.command("revoke")
@click.argument("key_id", type=int)
@pass_ctx
def key_revoke(cx: CliContext, key_id: int) -> None:
    """Revoke an API key by its id (see `user key list`).

    Example: citygrowth user key revoke 3
    """
    with cx.session() as session:
        svc.revoke_api_key(session, CLI_ACTOR, key_id)
    click.echo(_("API key {key_id} revoked.").format(key_id=key_id))


@user.command("demo-logins")
@pass_ctx
def demo_logins(cx: CliContext) -> None:
    """Print the demo accounts (user name, password, role, area) after `citygrowth demo`.

    Example: citygrowth users demo-logins
    """
    from citygrowth.auth.demo import demo_logins as logins  # lazy: keeps citygrowth --help fast

    table = Table(_("User name"), _("Password"), _("Role"), _("Area"), title=_("Demo logins"))
    with cx.session() as session:
        from citygrowth.areas.models import Area  # lazy: keeps citygrowth --help fast
        from citygrowth.i18n import bilingual  # lazy: keeps citygrowth --help fast

        for d in logins(session, cx.settings.district_code):
            area = session.get(Area, d.area_code)
            where = f"{d.area_code} {bilingual(area.name_zh, area.name_en) if area else ''}"
            if d.department_code:
                where += f" / {d.department_code}"
            table.add_row(d.username, d.password or _("(API key only)"),
                          translate(ROLES[d.role]), where)
    out.print(table)


@user.command("permissions")
@click.option("--markdown", is_flag=True, help="Print a Markdown table (for the docs).")
@pass_ctx
def user_permissions(cx: CliContext, markdown: bool) -> None:
    """Print each role with the permissions every plugin grants it.

    Example: citygrowth user permissions --markdown
    """
    table = cx.runtime.permissions
    if markdown:
        click.echo("| role | permissions |\n|---|---|")
        for role in ROLES:
            perms = ", ".join(f"`{p}`" for p in sorted(table.get(role, ())))
            click.echo(f"| `{role}` | {perms} |")
        return
    for role, label in ROLES.items():
        click.echo(f"{role} ({translate(label)}): {' '.join(sorted(table.get(role, ())))}")


@click.group("audit")
def audit_group() -> None:
    """Read and verify the hash-chained audit log.

    Example: citygrowth audit verify
    """


def _expected(value: str | None) -> tuple[int, str] | None:
    if not value:
        return None
    count, _sep, head = value.partition(":")
    if not count.isdigit() or len(head) != 64:
        raise click.BadParameter(_("Give COUNT:HEAD as printed by an earlier verify."),
                                 param_hint="--expect")
    return int(count), head.lower()


@audit_group.command("verify")
@click.option("--expect", metavar="COUNT:HEAD",
              help="The count and head printed by an earlier verify (kept elsewhere): entry "
                   "number COUNT must still have the hash HEAD.")
@pass_ctx
def audit_verify(cx: CliContext, expect: str | None) -> None:
    """Check the hash chain and its signed anchor; exit 1 and name the first edited, deleted
    or inserted entry, or the chain's end when entries were cut off it or it was rewritten.
    On success it prints COUNT:HEAD: keep that line somewhere else to check against later.

    Example: citygrowth audit verify --expect 1520:3f9c…
    """
    with cx.session() as session:
        result = svc.audit_verify(session, CLI_ACTOR, _expected(expect))
    if result.ok:
        click.echo(_("Audit log intact: {n} entries checked.").format(n=result.checked))
        if result.head_hash:
            click.echo(f"{result.checked}:{result.head_hash}")
        return
    click.echo(_("Audit log broken at entry {id}: {reason}.").format(
        id=result.first_bad_id, reason=translate(result.reason)), err=True)
    sys.exit(1)


@audit_group.command("anchor")
@click.option("--reason", default="", help="Why (kept in the audit log).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def audit_anchor(cx: CliContext, reason: str, yes: bool) -> None:
    """Sign the audit log's anchor for the log as it is now: once after upgrading to a
    version with anchors, and after changing the audit key. Refused while the chain's links
    are broken. The act itself is written to the audit log.

    Example: citygrowth audit anchor --reason "upgrade to 0.9"
    """
    if not yes:
        click.confirm(_("This accepts the audit log as it is now as complete. Continue?"),
                      abort=True)
    with cx.session() as session:
        result = svc.audit_anchor(session, CLI_ACTOR, anchor_key(cx.settings), reason)
    click.echo(_("Audit log anchored: {n} entries.").format(n=result.count))
    click.echo(f"{result.count}:{result.head_hash}")


@audit_group.command("tail")
@click.option("-n", "limit", default=20, show_default=True, help="How many entries.")
@pass_ctx
def audit_tail(cx: CliContext, limit: int) -> None:
    """Show the newest audit entries.

    Example: citygrowth audit tail -n 50
    """
    tz = ZoneInfo(cx.settings.timezone)
    table = Table("id", _("Time"), _("Actor"), _("Action"), _("Target"))
    with cx.session() as session:
        for e in svc.audit_tail(session, CLI_ACTOR, limit):
            at = e.at.astimezone(tz).isoformat(timespec="seconds")
            table.add_row(str(e.id), at, e.actor, e.action, e.target)
    out.print(table)
