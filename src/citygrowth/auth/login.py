"""Logging in: a password check of the same cost for every name, failure budgets with a growing
delay, a true ``Retry-After``, and failed logins summarised in the audit log.

Failures are counted in windows of ``login_window_seconds`` (table ``login_failures``, shared by
every web worker), under three budgets:

* a user name from one address (``login_max_attempts``);
* one address, whatever the names (``login_address_max_attempts``) — password spraying;
* everyone together (``login_global_max_attempts``) — spraying from many addresses.

Once half of the address or global budget is used, each attempt first waits, twice as long for
each further failure, up to ``login_max_delay_seconds`` (:func:`login_delay`; the web route waits
without holding a worker thread). Once a budget is used up, attempts — even with the right
password — are refused with 429 and ``Retry-After`` set to the seconds left in that window.

An unknown or deactivated name costs one argon2 verification, as a known one does
(``passwords.verify_password``). The audit log gets one entry for the first failure of a name
and address in a window, one summary (``auth.login_failures`` with the count) when that window
is over, and one entry when a budget runs out — not one per attempt.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from citygrowth.auth import audit
from citygrowth.auth.actor import Actor
from citygrowth.auth.identity import actor_for_user
from citygrowth.auth.models import LoginFailures, User
from citygrowth.auth.passwords import verify_password
from citygrowth.db import utcnow
from citygrowth.errors import TooManyRequests, Unauthenticated
from citygrowth.i18n import N_
from citygrowth.settings import Settings

#: expired windows summarised and removed per failed login (keeps each login's work bounded)
PURGE_BATCH = 200
FIRST_DELAY = 0.25


class LoginRefused(TooManyRequests):
    """A failure budget is used up; ``retry_after`` is what is left of its window."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, minutes=max(1, math.ceil(retry_after / 60)))
        self.retry_after = retry_after


@dataclass(frozen=True)
class Budget:
    key: str
    limit: int
    message: str
    grows: bool  # attempts wait longer as it is used up


def budgets(username: str, client: str, settings: Settings) -> list[Budget]:
    name = username.strip().lower()[:100]
    return [
        Budget(f"n:{name}|{client[:80]}", settings.login_max_attempts,
               N_("Too many failed logins for this user name from your address. "
                  "Please wait {minutes} minutes and try again."), False),
        Budget(f"a:{client[:180]}", settings.login_address_max_attempts,
               N_("Too many failed logins from your address. Please wait {minutes} minutes "
                  "and try again."), True),
        Budget("g:", settings.login_global_max_attempts,
               N_("Too many failed logins on this site just now. Please wait {minutes} "
                  "minutes and try again."), True),
    ]


def _current(session: Session, keys: list[str], since: dt.datetime
             ) -> dict[str, LoginFailures]:
    rows = session.scalars(select(LoginFailures).where(LoginFailures.key.in_(keys)))
    return {r.key: r for r in rows if r.window_start >= since}


def _window(settings: Settings, now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(seconds=settings.login_window_seconds)


def login_delay(session: Session, username: str, client: str, settings: Settings) -> float:
    """Seconds to wait before checking this attempt (0 while the budgets are far from used)."""
    now = utcnow()
    rows = _current(session, [b.key for b in budgets(username, client, settings)],
                    _window(settings, now))
    delay = 0.0
    for b in budgets(username, client, settings):
        row = rows.get(b.key)
        over = (row.count if row else 0) - b.limit // 2
        if b.grows and over >= 0:
            delay = max(delay, FIRST_DELAY * 2 ** min(over, 16))
    return min(delay, settings.login_max_delay_seconds)


def login(session: Session, username: str, password: str, client: str,
          settings: Settings) -> Actor:
    """Check a user name and password and return the actor, or raise.

    Failures are committed at once (the request's own transaction is rolled back by the error):
    :class:`Unauthenticated` (``bad_login``) for a wrong name or password, :class:`LoginRefused`
    (429) while a budget is used up."""
    now = utcnow()
    plan = budgets(username, client, settings)
    rows = _current(session, [b.key for b in plan], _window(settings, now))
    _refuse_if_spent(plan, rows, settings, now)
    user = session.scalar(select(User).where(User.username == username.strip()))
    known = user is not None and user.active
    if not verify_password(user.password_hash if known and user else None, password):
        _failed(session, plan, username, client, settings, now)
        raise Unauthenticated("The user name or password is wrong.", code="bad_login")
    assert user is not None
    first = rows.get(plan[0].key)
    if first is not None:
        _summarise(session, first)
        session.delete(first)
    user.last_login_at = now
    actor = actor_for_user(user)
    audit.record(session, actor, "auth.login", f"user:{user.username}", {"client": client})
    return actor


def _refuse_if_spent(plan: list[Budget], rows: dict[str, LoginFailures], settings: Settings,
                     now: dt.datetime) -> None:
    for b in plan:
        row = rows.get(b.key)
        if row is not None and row.count >= b.limit:
            ends = row.window_start + dt.timedelta(seconds=settings.login_window_seconds)
            raise LoginRefused(b.message, max(1, math.ceil((ends - now).total_seconds())))


def _failed(session: Session, plan: list[Budget], username: str, client: str,
            settings: Settings, now: dt.datetime) -> None:
    since = _window(settings, now)
    _purge(session, since)
    name = username.strip()[:80] or "?"
    for b in plan:
        count = _bump(session, b.key, now, since)
        if b is plan[0] and count == 1:
            audit.record(session, Actor(user_id=None, username=name), "auth.login_failed",
                         f"user:{name}", {"client": client})
        elif b is not plan[0] and count == b.limit:
            audit.record(session, Actor(user_id=None, username=name), "auth.login_blocked",
                         "address" if b.key.startswith("a:") else "everyone",
                         {"client": client, "failures": count,
                          "window_seconds": settings.login_window_seconds})
    session.commit()


def _bump(session: Session, key: str, now: dt.datetime, since: dt.datetime) -> int:
    """Count one failure under ``key`` (a new window when the last one is over); returns the
    count. One statement, so concurrent failures never lose a count or collide."""
    t = LoginFailures
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    expired = t.window_start < since
    stmt = insert(t).values(key=key, window_start=now, last_at=now, count=1)
    upsert = stmt.on_conflict_do_update(index_elements=[t.key], set_={
        "count": case((expired, 1), else_=t.count + 1),
        "window_start": case((expired, now), else_=t.window_start),
        "last_at": now,
    }).returning(t.count)
    return int(session.execute(upsert).scalar_one())


def _purge(session: Session, since: dt.datetime) -> None:
    """Summarise and remove windows that are over (a bounded batch per call)."""
    old = list(session.scalars(select(LoginFailures).where(LoginFailures.window_start < since)
                               .order_by(LoginFailures.window_start).limit(PURGE_BATCH)))
    for row in old:
        _summarise(session, row)
    if old:
        session.execute(delete(LoginFailures).where(
            LoginFailures.key.in_([r.key for r in old])))


def _summarise(session: Session, row: LoginFailures) -> None:
    """One audit entry for a finished window of a user name and address with several
    failures (the first failure has its own entry)."""
    if not row.key.startswith("n:") or row.count < 2:
        return
    name, _, client = row.key[2:].partition("|")
    audit.record(session, Actor(user_id=None, username=name[:80] or "?"), "auth.login_failures",
                 f"user:{name[:80]}", {"client": client, "failures": row.count,
                                       "first": row.window_start.isoformat(),
                                       "last": row.last_at.isoformat()})
