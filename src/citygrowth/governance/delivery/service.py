"""Send records: written with each dispatch, sent by the job runner, retried with back-off,
listed for the command center; and the departments' channels, set by administrators.

A record is **pending** until a channel accepts it (**sent**); each failed attempt stores its
error and the time of the next attempt, ``backoff × 2^(attempts-1)`` seconds later (at most
``CITYGROWTH_DELIVERY_BACKOFF_MAX_SECONDS``); after ``CITYGROWTH_DELIVERY_MAX_ATTEMPTS`` the
record is **failed** and waits for someone to send it again from the command center. Sending
happens outside any database transaction: a record is first *leased* (claimed for a while, so
two workers never send it at once), then sent, then its outcome written — at least once, and
the delivery id lets receivers drop a repeat.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import can, departments_for, require, scope_prefixes
from citygrowth.db import transaction, utcnow
from citygrowth.errors import NotFound
from citygrowth.governance.delivery.message import DeliveryFailed, build
from citygrowth.governance.delivery.models import CaseDelivery, DepartmentChannel
from citygrowth.governance.models import Case
from citygrowth.logging_setup import get_logger
from citygrowth.plugins import collect_dict
from citygrowth.runtime import Runtime
from citygrowth.settings import Settings

log = get_logger(__name__)
LEASE = dt.timedelta(minutes=5)
Channel = Callable[..., Any]


def channels(runtime: Runtime) -> dict[str, Channel]:
    """Every channel by name: the built-in ``webhook`` and ``email`` and the plugins', all
    through the ``citygrowth_dispatch_channels`` hook."""
    return collect_dict(runtime.plugins.hook.citygrowth_dispatch_channels(runtime=runtime))


def backoff(settings: Settings, attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    seconds = settings.delivery_backoff_seconds * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.delivery_backoff_max_seconds))


# --- sending ---------------------------------------------------------------------------------

@dataclass
class RunResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def _claim(factory: sessionmaker[Session], now: dt.datetime, limit: int) -> list[int]:
    free = or_(CaseDelivery.lease_until.is_(None), CaseDelivery.lease_until < now)
    with transaction(factory) as s:
        ids = list(s.scalars(select(CaseDelivery.id).where(
            CaseDelivery.state == "pending", CaseDelivery.next_attempt_at <= now, free)
            .order_by(CaseDelivery.next_attempt_at, CaseDelivery.id).limit(limit)))
        claimed = []
        for i in ids:
            res = s.execute(update(CaseDelivery).where(
                CaseDelivery.id == i, CaseDelivery.state == "pending", free).values(
                lease_until=now + LEASE, attempts=CaseDelivery.attempts + 1,
                last_attempt_at=now))
            if getattr(res, "rowcount", 0) == 1:
                claimed.append(i)
    return claimed


def deliver_due(factory: sessionmaker[Session], settings: Settings,
                available: Mapping[str, Channel], now: dt.datetime | None = None,
                limit: int = 100) -> RunResult:
    """Send the records that are due (the job ``cases.deliver``)."""
    now = now or utcnow()
    result = RunResult()
    for delivery_id in _claim(factory, now, limit):
        outcome = _attempt(factory, settings, available, delivery_id, now)
        setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def _attempt(factory: sessionmaker[Session], settings: Settings,
             available: Mapping[str, Channel], delivery_id: int, now: dt.datetime) -> str:
    with transaction(factory) as s:
        d = s.get(CaseDelivery, delivery_id)
        assert d is not None
        case = s.get(Case, d.case_id)
        config = s.scalar(select(DepartmentChannel).where(
            DepartmentChannel.department_code == d.department_code,
            DepartmentChannel.channel == d.channel))
        message = build(s, d, settings, now)
        s.expunge_all()  # sent outside the transaction: no row stays locked while we wait
    fn = available.get(d.channel)
    receipt, error = "", ""
    try:
        if fn is None:
            raise DeliveryFailed(f"No channel named {d.channel} is installed.")
        if config is None:
            raise DeliveryFailed(f"The department has no {d.channel} channel any more.")
        out = fn(case, message=message, target=config.target, secret=config.secret,
                 department=d.department_code, settings=settings, delivery_id=d.id,
                 attempt=d.attempts)
        if isinstance(out, dict) and out.get("delivered") is False:
            raise DeliveryFailed(str(out.get("error") or "The channel did not deliver."))
        receipt = str(out if not isinstance(out, dict) else out.get("receipt", out))[:300]
    except Exception as exc:  # a channel's failure is the record's, never the job's
        error = str(exc)[:2000] or type(exc).__name__
    return _record(factory, settings, delivery_id, receipt, error, now)


def _record(factory: sessionmaker[Session], settings: Settings, delivery_id: int,
            receipt: str, error: str, now: dt.datetime) -> str:
    with transaction(factory) as s:
        d = s.get(CaseDelivery, delivery_id)
        assert d is not None
        d.lease_until = None
        if not error:
            d.state, d.sent_at, d.receipt, d.next_attempt_at = "sent", now, receipt, None
            d.last_error = ""
            return "sent"
        d.last_error = error
        if d.attempts >= settings.delivery_max_attempts:
            d.state, d.next_attempt_at = "failed", None
            log.warning("case delivery failed", delivery=d.id, case=d.case_id,
                        channel=d.channel, attempts=d.attempts, error=error[:200])
            return "failed"
        d.next_attempt_at = now + backoff(settings, d.attempts)
        return "retrying"


def retry(session: Session, actor: Actor, delivery_id: int,
          now: dt.datetime | None = None) -> CaseDelivery:
    """Send a failed (or waiting) record again at the next run, with fresh attempts."""
    d = _visible(session, actor, "case.dispatch").where(CaseDelivery.id == delivery_id)
    found = session.scalar(d)
    if found is None or not can(actor, "case.dispatch", _resource(session, found)):
        raise NotFound("No delivery {id}.", id=delivery_id)
    if found.state != "sent":
        found.state, found.attempts = "pending", 0
        found.next_attempt_at, found.lease_until = now or utcnow(), None
    session.flush()
    return found


# --- reading ---------------------------------------------------------------------------------

def _resource(session: Session, d: CaseDelivery) -> dict[str, str | None]:
    case = session.get(Case, d.case_id)
    return {"area_code": case.area_code if case else None, "department_code": d.department_code}


def _visible(session: Session, actor: Actor,
             permission: str = "case.view") -> Select[CaseDelivery]:
    """Records of the cases ``actor`` may see (areas and departments)."""
    require(actor, permission, None)
    q = select(CaseDelivery).join(Case, Case.id == CaseDelivery.case_id)
    prefixes = scope_prefixes(actor, permission)
    if prefixes is not None:
        q = q.where(or_(*[Case.area_code.startswith(p, autoescape=True) for p in prefixes])
                    if prefixes else CaseDelivery.id.is_(None))
    depts = departments_for(actor, permission)
    if depts is not None:
        q = q.where(CaseDelivery.department_code.in_(sorted(depts)))
    return q


def list_deliveries(session: Session, actor: Actor, state: str | None = None,
                    problems: bool = False, case_id: int | None = None,
                    limit: int = 200) -> list[CaseDelivery]:
    """Send records, newest first; ``problems``: failed, or pending after a failed attempt."""
    q = _visible(session, actor)
    if state:
        q = q.where(CaseDelivery.state == state)
    if problems:
        q = q.where(or_(CaseDelivery.state == "failed",
                        (CaseDelivery.state == "pending") & (CaseDelivery.last_error != "")))
    if case_id is not None:
        q = q.where(CaseDelivery.case_id == case_id)
    q = q.order_by(CaseDelivery.created_at.desc(), CaseDelivery.id.desc())
    return list(session.scalars(q.limit(max(1, min(limit, 1000)))))


def problem_counts(session: Session, actor: Actor) -> dict[str, int]:
    """How many records failed for good, and how many wait for a retry after an error."""
    if not can(actor, "case.view"):
        return {"failed": 0, "retrying": 0}
    q = _visible(session, actor).subquery()
    failed = session.scalar(select(func.count()).select_from(q).where(q.c.state == "failed"))
    retrying = session.scalar(select(func.count()).select_from(q).where(
        q.c.state == "pending", q.c.last_error != ""))
    return {"failed": int(failed or 0), "retrying": int(retrying or 0)}
