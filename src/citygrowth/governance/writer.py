"""Group commit for intake: one writer thread turns queued reports into cases in batches.

Under many concurrent reports, one SQLite (or PostgreSQL) transaction per report spends its
time waiting for the write lock and the disk. ``IntakeWriter`` lets request handlers hand a
report over and wait: the writer collects what arrives within ``group_commit_ms`` (up to
``max_batch``), checks each report exactly as ``intake.submit_report`` does (category,
position → grid cell, permission, idempotency key, device retry window), inserts the new cases
and their first events, commits once, and only then answers every waiting request — so an
acknowledged report is still durable, and a retried key still returns the case already made.

Within the same transaction the writer also checks that every reporter's credential is still
good — the API key not revoked, the user still active — so a key revoked anywhere (another
process included) stops making cases at once, even while the intake remembers its actor.
Answers of one batch reach an event loop with one wake-up (``submit_async``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import secrets
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from citygrowth.auth.actor import Actor
from citygrowth.auth.models import ApiKey, User
from citygrowth.auth.permissions import require
from citygrowth.db import SQLiteInsert, utcnow
from citygrowth.errors import CityGrowthError, Unauthenticated
from citygrowth.events import EventBus
from citygrowth.governance.intake import (
    ReportInput,
    _check,
    fingerprint,
    locate,
    scoped_key,
    submit_report,
)
from citygrowth.governance.lifecycle import report_event
from citygrowth.governance.models import Case, CaseCategory, CaseEvent
from citygrowth.logging_setup import get_logger

log = get_logger(__name__)

TOUCH_EVERY = 10.0  # seconds between two records of an API key's last use


@dataclass(frozen=True)
class Ack:
    id: int
    token: str
    area_code: str
    created: bool


@dataclass(frozen=True)
class _Category:
    """What intake needs of a case category (read per batch without building ORM objects)."""

    code: str
    kind: str
    parent_code: str | None
    active: bool


#: The columns a new case is written with (``_prepare``'s row); the others are NULL.
CASE_COLUMNS = (
    "token", "idempotency_key", "fingerprint", "category_code", "kind", "component_id",
    "area_code", "status", "source", "description", "address", "lon", "lat", "photos",
    "attributes", "reporter_user_id", "reporter_contact", "device_id", "account_id",
    "reported_at", "updated_at", "supervised", "escalation_level", "rework_count",
    "reopen_count", "illustrative")
EVENT_COLUMNS = ("case_id", "seq", "at", "actor", "actor_user_id", "action", "from_status",
                 "to_status", "note", "photos", "detail")


@dataclass(frozen=True)
class _Located:
    """The grid cells of a batch's positions, found with one query of the locator's tree;
    ``at(item)`` is a locator for ``intake.locate`` that answers that item's cell."""

    cells: dict[int, str | None]
    locator: Any

    def at(self, item: _Item) -> Any:
        return _OneCell(self.cells[id(item)]) if id(item) in self.cells else self.locator


@dataclass(frozen=True)
class _OneCell:
    code: str | None

    def locate(self, lon: float, lat: float) -> str | None:
        return self.code


@dataclass
class _Item:
    actor: Actor
    inp: ReportInput
    future: Future[Ack] | None = None  # answered here (``submit``)
    loop: asyncio.AbstractEventLoop | None = None
    afuture: asyncio.Future[Ack] | None = None  # answered on ``loop`` (``submit_async``)
    answered: bool = False


@dataclass(frozen=True)
class _Queries:
    """The writer's reads, built once (Core statements with expanding parameters)."""

    by_key: Any
    by_fp: Any
    cats: Any
    good_keys: Any
    good_users: Any


@functools.cache
def _queries() -> _Queries:
    cases, cats = Case.__table__.c, CaseCategory.__table__.c
    keys, users = ApiKey.__table__.c, User.__table__.c
    ack = (cases.id, cases.token, cases.area_code)
    return _Queries(
        by_key=select(*ack, cases.idempotency_key).where(
            cases.idempotency_key.in_(bindparam("keys", expanding=True))),
        by_fp=select(*ack, cases.fingerprint).where(
            cases.fingerprint.in_(bindparam("fps", expanding=True)),
            cases.reported_at >= bindparam("since", type_=cases.reported_at.type)),
        cats=select(cats.code, cats.kind, cats.parent_code, cats.active),
        good_keys=select(keys.id).join(User.__table__, users.id == keys.user_id).where(
            keys.id.in_(bindparam("ids", expanding=True)), keys.revoked.is_(False),
            users.active.is_(True)),
        good_users=select(users.id).where(users.id.in_(bindparam("ids", expanding=True)),
                                          users.active.is_(True)))


def credential_refused(actor: Actor) -> Unauthenticated:
    """The error of a reporter whose API key was revoked or whose account was disabled — the
    same as the intake gives a key or a session it does not know."""
    if actor.api_key_id is not None:
        return Unauthenticated("The API key is not valid.", code="bad_api_key")
    return Unauthenticated()


Outcome = Ack | BaseException


def _settle(pairs: list[tuple[asyncio.Future[Ack], Outcome]]) -> None:
    for fut, outcome in pairs:
        if fut.done():  # the request went away (cancelled) meanwhile
            continue
        if isinstance(outcome, BaseException):
            fut.set_exception(outcome)
        else:
            fut.set_result(outcome)


class IntakeWriter:
    def __init__(self, factory: sessionmaker[Session], district_code: str,
                 bus: EventBus | None = None, wait_ms: float = 2.0, max_batch: int = 256):
        self.factory, self.district_code, self.bus = factory, district_code, bus
        self.wait, self.max_batch = wait_ms / 1000, max_batch
        # a deque (append/popleft are atomic) and an event set only when the writer may be
        # idle: a report costs the event loop no lock hand-over with the writer thread
        self.pending: deque[_Item] = deque()
        self.wake = threading.Event()
        self.touched: dict[int, float] = {}  # API key id → when its last use is due again
        self._raw: tuple[SQLiteInsert, SQLiteInsert] | None = None
        self._answers: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Ack],
                                                                  Outcome]]] = {}
        self.thread = threading.Thread(target=self._run, name="intake-writer", daemon=True)
        self.thread.start()

    def submit(self, actor: Actor, inp: ReportInput) -> Future[Ack]:
        """Queue a report; the future is answered once its case is committed (or refused)."""
        future: Future[Ack] = Future()
        self._put(_Item(actor, inp, future=future))
        return future

    def submit_async(self, actor: Actor, inp: ReportInput) -> asyncio.Future[Ack]:
        """Like :meth:`submit`, from a coroutine: the answers of one batch are handed to the
        running event loop in one call instead of one wake-up per report."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Ack] = loop.create_future()
        self._put(_Item(actor, inp, loop=loop, afuture=fut))
        return fut

    def _put(self, item: _Item) -> None:
        self.pending.append(item)
        if not self.wake.is_set():
            self.wake.set()

    def _take(self) -> list[_Item]:
        """The next batch: wait for a report, give others ``wait`` seconds to join it (the
        group commit), then take up to ``max_batch``."""
        self.wake.wait()
        if self.wait and len(self.pending) < self.max_batch:
            time.sleep(self.wait)
        self.wake.clear()  # before draining: a report put after this sets it again
        batch: list[_Item] = []
        while self.pending and len(batch) < self.max_batch:
            batch.append(self.pending.popleft())
        if self.pending:
            self.wake.set()
        return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if not batch:
                continue
            try:
                self._write(batch)
            except IntegrityError:  # a key raced in from elsewhere: one by one
                for item in batch:
                    if not item.answered:
                        self._write_one(item)
            except Exception as exc:  # never leave a request waiting
                log.exception("intake batch failed")
                for item in batch:
                    if not item.answered:
                        self._answer(item, exc)
            self._flush()

    def _answer(self, item: _Item, outcome: Outcome) -> None:
        item.answered = True
        if item.future is not None:
            if isinstance(outcome, BaseException):
                item.future.set_exception(outcome)
            else:
                item.future.set_result(outcome)
        if item.loop is not None and item.afuture is not None:
            self._answers.setdefault(item.loop, []).append((item.afuture, outcome))

    def _flush(self) -> None:
        answers, self._answers = self._answers, {}
        for loop, pairs in answers.items():
            try:
                loop.call_soon_threadsafe(_settle, pairs)
            except RuntimeError:  # that loop has closed: nobody waits for these any more
                pass

    def _write(self, batch: list[_Item]) -> None:
        now = utcnow()
        with self.factory() as s:
            ctx = self._context(s, batch, now)
            fresh: dict[str, list[_Item]] = {}
            rows: list[tuple[_Item, dict[str, Any]]] = []
            for item in batch:
                row = self._prepare(s, item, ctx)
                if row is None:
                    continue
                key = row["idempotency_key"]
                if key and key in fresh:  # the same key twice in one batch
                    fresh[key].append(item)
                    continue
                if key:
                    fresh[key] = [item]
                rows.append((item, row))
            acks = self._insert(s, rows, now)
            self._touch_keys(s, batch, ctx["refused"], now)
            s.commit()
        for (item, row), ack in zip(rows, acks, strict=True):
            self._answer(item, ack)
            for twin in fresh.get(row["idempotency_key"] or "", [])[1:]:
                self._answer(twin, Ack(ack.id, ack.token, ack.area_code, False))
            if self.bus is not None:
                self.bus.publish("case.changed", {"case_id": ack.id, "action": "report",
                                                  "from": None, "to": "reported",
                                                  "area_code": ack.area_code,
                                                  "department_code": None})

    def _context(self, s: Session, batch: list[_Item], now: Any) -> dict[str, Any]:
        """What a batch looks up once: categories, the grid cells of its positions, the
        reporters whose credentials still hold, earlier cases with the batch's keys and device
        fingerprints. Core statements on the session's connection: the ORM adds nothing here
        but time."""
        from citygrowth.areas.locator import get_locator
        from citygrowth.governance.config import case_settings

        conn = s.connection()
        q = _queries()
        keys = {k for i in batch if (k := scoped_key(i.actor, i.inp.idempotency_key))}
        fps = {f for i in batch if (f := fingerprint(i.inp))}
        by_key = {r[3]: Ack(r[0], r[1], r[2], False)
                  for r in conn.execute(q.by_key, {"keys": list(keys)})} if keys else {}
        since = now - dt.timedelta(seconds=case_settings().retry_window_seconds)
        by_fp = {r[3]: Ack(r[0], r[1], r[2], False)
                 for r in conn.execute(q.by_fp, {"fps": list(fps), "since": since})} \
            if fps else {}
        cats = {r[0]: _Category(r[0], r[1], r[2], bool(r[3])) for r in conn.execute(q.cats)}
        placed = [(id(i), lon, lat) for i in batch
                  if (lon := i.inp.lon) is not None and (lat := i.inp.lat) is not None
                  and -180 <= lon <= 180 and -90 <= lat <= 90]
        locator = get_locator(s)
        cells = dict(zip((p[0] for p in placed),
                         locator.locate_many([p[1] for p in placed], [p[2] for p in placed]),
                         strict=True)) if placed else {}
        return {"cats": cats, "locator": _Located(cells, locator), "by_key": by_key,
                "by_fp": by_fp, "now": now, "refused": self._refused(s, batch)}

    def _touch_keys(self, s: Session, batch: list[_Item], refused: set[tuple[str, int]],
                    now: dt.datetime) -> None:
        """Record ``last_used_at`` of the batch's API keys, at most once per ``TOUCH_EVERY``
        seconds a key, in the batch's own transaction (no write transaction of its own)."""
        mono = time.monotonic()
        due = {k for i in batch if (k := i.actor.api_key_id) is not None
               and ("key", k) not in refused and self.touched.get(k, 0.0) <= mono}
        if not due:
            return
        s.execute(update(ApiKey).where(ApiKey.id.in_(due)).values(last_used_at=now))
        if len(self.touched) > 10000:
            self.touched.clear()
        for k in due:
            self.touched[k] = mono + TOUCH_EVERY

    @staticmethod
    def _refused(s: Session, batch: list[_Item]) -> set[tuple[str, int]]:
        """Credentials of the batch that no longer hold: ("key", id) of a revoked key or of a
        disabled user's key, ("user", id) of a disabled or deleted user (session reporters)."""
        key_ids = {a.api_key_id for i in batch if (a := i.actor).api_key_id is not None}
        user_ids = {a.user_id for i in batch
                    if (a := i.actor).api_key_id is None and a.user_id is not None}
        refused: set[tuple[str, int]] = set()
        conn = s.connection()
        if key_ids:
            good = set(conn.scalars(_queries().good_keys, {"ids": list(key_ids)}))
            refused |= {("key", k) for k in key_ids - good}
        if user_ids:
            good = set(conn.scalars(_queries().good_users, {"ids": list(user_ids)}))
            refused |= {("user", u) for u in user_ids - good}
        return refused

    def _prepare(self, s: Session, item: _Item, ctx: dict[str, Any]) -> dict[str, Any] | None:
        """The new case's row, or None when the item is already answered (error or retry)."""
        inp, actor = item.inp, item.actor
        if ctx["refused"] and (("key", actor.api_key_id) in ctx["refused"]
                               or ("user", actor.user_id) in ctx["refused"]):
            self._answer(item, credential_refused(actor))
            return None
        try:
            cat = _check(s, inp, ctx["cats"])
            area = locate(s, inp, self.district_code, ctx["locator"].at(item))
            require(actor, "case.report", area)
        except CityGrowthError as exc:
            self._answer(item, exc)
            return None
        key, fp = scoped_key(actor, inp.idempotency_key), fingerprint(inp)
        existing = ctx["by_key"].get(key) or ctx["by_fp"].get(fp)
        if existing is not None:
            self._answer(item, existing)
            return None
        now = ctx["now"]
        return {"token": secrets.token_urlsafe(12), "idempotency_key": key, "fingerprint": fp,
                "category_code": cat.code, "kind": cat.kind, "component_id": inp.component_id,
                "area_code": area, "status": "reported", "source": inp.source,
                "description": inp.description.strip(), "address": inp.address.strip()[:300],
                "lon": inp.lon, "lat": inp.lat, "photos": list(inp.photos),
                "attributes": inp.attributes, "reporter_user_id": actor.user_id,
                "reporter_contact": inp.contact[:200], "device_id": inp.device_id[:100],
                "account_id": inp.account_id[:100], "reported_at": now, "updated_at": now,
                "supervised": False, "escalation_level": 0, "rework_count": 0,
                "reopen_count": 0, "illustrative": False}
        # department_code, pending, pending_hours, due_at, warn_at, closed_at, limit_hours and
        # satisfaction are left out: NULL for a new case (no default), and cheaper to insert

    def _insert(self, s: Session, rows: list[tuple[_Item, dict[str, Any]]],
                now: Any) -> list[Ack]:
        if not rows:
            return []
        conn = s.connection()
        cases, events = cast(Table, Case.__table__), cast(Table, CaseEvent.__table__)
        new = [r for _, r in rows]
        raw = self._sqlite(conn.dialect) if conn.dialect.name == "sqlite" else None
        if raw is not None:  # straight through the DBAPI cursor (see ``db.SQLiteInsert``)
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                ids = raw[0].insert(cursor, new)
                raw[1].insert_many(cursor, self._events(ids, rows, now))
            finally:
                cursor.close()
        else:
            res = conn.execute(insert(cases).returning(cases.c.id, sort_by_parameter_order=True),
                               new)
            ids = [r[0] for r in res]
            conn.execute(insert(events), self._events(ids, rows, now))
        return [Ack(cid, r["token"], r["area_code"], True)
                for cid, (_, r) in zip(ids, rows, strict=True)]

    @staticmethod
    def _events(ids: list[int], rows: list[tuple[_Item, dict[str, Any]]],
                now: Any) -> list[dict[str, Any]]:
        return [report_event(cid, item.actor, now, item.inp.description[:500],
                             item.inp.photos, item.inp.source)
                for cid, (item, _) in zip(ids, rows, strict=True)]

    def _sqlite(self, dialect: Any) -> tuple[SQLiteInsert, SQLiteInsert]:
        if self._raw is None:
            self._raw = (SQLiteInsert(cast(Table, Case.__table__), CASE_COLUMNS, dialect),
                         SQLiteInsert(cast(Table, CaseEvent.__table__), EVENT_COLUMNS, dialect))
        return self._raw

    def _write_one(self, item: _Item) -> None:
        try:
            with self.factory() as s:
                if self._refused(s, [item]):
                    raise credential_refused(item.actor)
                result = submit_report(s, item.actor, item.inp, district_code=self.district_code,
                                       bus=self.bus)
                s.commit()
                c = result.case
                outcome: Outcome = Ack(c.id, c.token, c.area_code, result.created)
        except Exception as exc:
            outcome = exc
        self._answer(item, outcome)


_lock = threading.Lock()


def writer_for(app: Any) -> IntakeWriter:
    """The app's writer, started on first use."""
    w = getattr(app.state, "intake_writer", None)
    if w is None:
        with _lock:
            w = getattr(app.state, "intake_writer", None)
            if w is None:
                from citygrowth.governance.config import case_settings

                w = IntakeWriter(app.state.sessionmaker, app.state.settings.district_code,
                                 app.state.bus, case_settings().group_commit_ms)
                app.state.intake_writer = w
    return w
