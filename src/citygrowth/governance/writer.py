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
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette

from citygrowth.areas.locator import get_locator
from citygrowth.auth.actor import Actor
from citygrowth.auth.models import ApiKey, User
from citygrowth.auth.permissions import require
from citygrowth.db import SQLiteInsert
from citygrowth.errors import CityGrowthError, Unauthenticated
from citygrowth.events import EventBus
from citygrowth.governance import media
from citygrowth.governance.intake import (
    Locator,
    ReportInput,
    check_report,
    fingerprint,
    first_event_row,
    locate,
    new_case_row,
    report_photos,
    reported,
    scoped_key,
    submit_report,
)
from citygrowth.governance.models import Case, CaseCategory, CaseEvent
from citygrowth.logging_setup import get_logger
from citygrowth.runtime import Runtime

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




@dataclass(frozen=True)
class _Located:
    """The grid cells of a batch's positions, found with one query of the locator's tree;
    ``at(item)`` is a locator for ``intake.locate`` that answers that item's cell."""

    cells: dict[int, str | None]
    locator: Locator

    def at(self, item: _Item) -> Locator:
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
    def __init__(self, runtime: Runtime, max_batch: int = 256):
        self.runtime = runtime
        self.factory: sessionmaker[Session] = runtime.sessionmaker
        self.district_code = runtime.settings.district_code
        self.bus: EventBus = runtime.bus
        self.wait, self.max_batch = runtime.cases.group_commit_ms / 1000, max_batch
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
        now = self.runtime.now()
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
            self.bus.publish("case.changed", reported(ack.id, ack.area_code))

    def _context(self, s: Session, batch: list[_Item], now: Any) -> dict[str, Any]:
        """What a batch looks up once: categories, the grid cells of its positions, the
        reporters whose credentials still hold, earlier cases with the batch's keys and device
        fingerprints. Core statements on the session's connection: the ORM adds nothing here
        but time."""
        conn = s.connection()
        q = _queries()
        keys = {k for i in batch if (k := scoped_key(i.actor, i.inp.idempotency_key))}
        fps = {f for i in batch if (f := fingerprint(i.inp))}
        by_key = {r[3]: Ack(r[0], r[1], r[2], False)
                  for r in conn.execute(q.by_key, {"keys": list(keys)})} if keys else {}
        since = now - dt.timedelta(seconds=self.runtime.cases.retry_window_seconds)
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
            cat = check_report(s, inp, ctx["cats"])
            area = locate(s, inp, self.district_code, ctx["locator"].at(item))
            require(actor, "case.report", area)
        except CityGrowthError as exc:
            self._answer(item, exc)
            return None
        row = new_case_row(actor, inp, cat, area, ctx["now"])
        existing = ctx["by_key"].get(row["idempotency_key"]) or ctx["by_fp"].get(
            row["fingerprint"])
        if existing is not None:
            self._answer(item, existing)
            return None
        if inp.photos:  # the reporter's own unused uploads, in their short form
            try:
                item.inp = replace(inp, photos=report_photos(s, media.owner_of(actor), inp))
            except CityGrowthError as exc:
                self._answer(item, exc)
                return None
            row["photos"] = list(item.inp.photos)
        return row

    def _insert(self, s: Session, rows: list[tuple[_Item, dict[str, Any]]],
                now: Any) -> list[Ack]:
        if not rows:
            return []
        conn = s.connection()
        cases, events = cast(Table, Case.__table__), cast(Table, CaseEvent.__table__)
        new = [r for _, r in rows]
        raw = self._sqlite(conn.dialect, rows, now) if conn.dialect.name == "sqlite" else None
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
        for cid, (_, r) in zip(ids, rows, strict=True):
            if r["photos"]:
                media.attach(s, cid, r["photos"], "report")
        return [Ack(cid, r["token"], r["area_code"], True)
                for cid, (_, r) in zip(ids, rows, strict=True)]

    @staticmethod
    def _events(ids: list[int], rows: list[tuple[_Item, dict[str, Any]]],
                now: dt.datetime) -> list[dict[str, Any]]:
        return [first_event_row(cid, item.actor, item.inp, now)
                for cid, (item, _) in zip(ids, rows, strict=True)]

    def _sqlite(self, dialect: Dialect, rows: list[tuple[_Item, dict[str, Any]]],
                now: dt.datetime) -> tuple[SQLiteInsert, SQLiteInsert]:
        """The raw inserts, made once with the columns of the builders' rows."""
        if self._raw is None:
            item, row = rows[0]
            event = first_event_row(0, item.actor, item.inp, now)
            self._raw = (SQLiteInsert(cast(Table, Case.__table__), tuple(row), dialect),
                         SQLiteInsert(cast(Table, CaseEvent.__table__), tuple(event), dialect))
        return self._raw

    def _write_one(self, item: _Item) -> None:
        try:
            with self.factory() as s:
                if self._refused(s, [item]):
                    raise credential_refused(item.actor)
                result = submit_report(s, item.actor, item.inp, runtime=self.runtime)
                s.commit()
                c = result.case
                outcome: Outcome = Ack(c.id, c.token, c.area_code, result.created)
        except Exception as exc:
            outcome = exc
        self._answer(item, outcome)


_lock = threading.Lock()


def writer_for(app: Starlette) -> IntakeWriter:
    """The app's writer, started on first use."""
    w: IntakeWriter | None = getattr(app.state, "intake_writer", None)
    if w is None:
        with _lock:
            w = getattr(app.state, "intake_writer", None)
            if w is None:
                w = IntakeWriter(app.state.runtime)
                app.state.intake_writer = w
    return w
