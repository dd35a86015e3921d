"""Departments' delivery channels, set by district administrators (page
``/admin/cases/channels`` and ``citygrowth cases channels``): checked, audited, the webhook
secret made here and shown once."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import require
from citygrowth.db import utcnow
from citygrowth.errors import NotFound, Problem, ValidationFailed
from citygrowth.governance.admin import check_department
from citygrowth.governance.delivery.email import ADDRESS, addresses
from citygrowth.governance.delivery.models import DepartmentChannel
from citygrowth.i18n import N_

PERMISSION = "case.taxonomy"
SIGNED = frozenset({"webhook"})  # channels that sign with the department's secret


@dataclass(frozen=True)
class ChannelSet:
    channel: DepartmentChannel
    secret: str | None  # the new secret, shown once (None when it did not change)


def list_channels(session: Session, actor: Actor) -> list[DepartmentChannel]:
    require(actor, PERMISSION, None)
    return list(session.scalars(select(DepartmentChannel).order_by(
        DepartmentChannel.department_code, DepartmentChannel.channel)))


def _check_target(channel: str, target: str, problems: list[Problem]) -> str:
    target = target.strip()
    if len(target) > 500:
        problems.append(Problem(N_("At most {n} characters."), {"n": 500}, field="target"))
    elif channel == "webhook":
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(Problem(N_("A webhook needs an http:// or https:// address."),
                                    field="target", value=target[:80]))
    elif channel == "email":
        bad = [a for a in addresses(target) if not ADDRESS.match(a)]
        if not addresses(target) or bad:
            problems.append(Problem(N_("Give one or more e-mail addresses, separated by "
                                       "commas."), field="target", value=(bad or [""])[0]))
    elif not target:
        problems.append(Problem(N_("Give the channel's target."), field="target"))
    return target


def set_channel(session: Session, actor: Actor, department_code: str, channel: str,
                target: str, installed: Collection[str], active: bool = True,
                new_secret: bool = False) -> ChannelSet:
    """Add or change a department's channel; a webhook gets a secret when it has none (or
    ``new_secret``), returned once."""
    require(actor, PERMISSION, None)
    problems: list[Problem] = []
    dept = check_department(session, department_code.strip(), "department_code", problems,
                            required=True)
    name = channel.strip().lower()
    if name not in installed:
        problems.append(Problem(N_("No channel named {name}; installed: {names}."),
                                {"name": name, "names": ", ".join(sorted(installed))},
                                field="channel", value=name))
    target = _check_target(name, target, problems)
    if problems:
        raise ValidationFailed(problems=problems)
    assert dept is not None
    row = session.scalar(select(DepartmentChannel).where(
        DepartmentChannel.department_code == dept, DepartmentChannel.channel == name))
    before = None if row is None else {"target": row.target, "active": row.active}
    if row is None:
        row = DepartmentChannel(department_code=dept, channel=name, secret="")
        session.add(row)
    row.target, row.active, row.updated_at = target, active, utcnow()
    shown = None
    if name in SIGNED and (new_secret or not row.secret):
        row.secret = shown = secrets.token_urlsafe(32)
    session.flush()
    record(session, actor, "dispatch_channel.create" if before is None
           else "dispatch_channel.update", f"dispatch_channel:{dept}:{name}",
           {"before": before, "after": {"target": target, "active": active},
            "secret_changed": shown is not None})
    return ChannelSet(row, shown)


def remove_channel(session: Session, actor: Actor, department_code: str, channel: str) -> None:
    """Remove a channel; records already written stay (and fail if they are still due)."""
    require(actor, PERMISSION, None)
    row = session.scalar(select(DepartmentChannel).where(
        DepartmentChannel.department_code == department_code,
        DepartmentChannel.channel == channel))
    if row is None:
        raise NotFound("No {channel} channel for department {code}.", channel=channel,
                       code=department_code)
    gone = {"target": row.target, "active": row.active}
    session.delete(row)
    session.flush()
    record(session, actor, "dispatch_channel.delete",
           f"dispatch_channel:{department_code}:{channel}", gone)
