"""Group commit for intake: one writer thread turns queued reports into cases in batches.

Under many concurrent reports, one SQLite (or PostgreSQL) transaction per report spends its
time waiting for the write lock and the disk. ``IntakeWriter`` lets request handlers hand a
report over and wait: the writer collects what arrives within ``group_commit_ms`` (up to
``max_batch``), checks each report exactly as ``intake.submit_report`` does (category,
position → grid cell, permission, idempotency key, device retry window), inserts the new cases
and their first events, commits once, and only then answers every waiting request — so an
acknowledged report is still durable, and a retried key still returns the case already made.
"""

from __future__ import annotations

import datetime as dt
import queue
import secrets
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import require
from citygrowth.db import utcnow
from citygrowth.errors import CityGrowthError
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
from citygrowth.governance.models import Case, CaseEvent
from citygrowth.logging_setup import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Ack:
    id: int
    token: str
    area_code: str
    created: bool


@dataclass
class _Item:
    actor: Actor
    inp: ReportInput
    future: Future[Ack] = field(default_factory=Future)


class IntakeWriter:
    def __init__(self, factory: sessionmaker[Session], district_code: str,
                 bus: EventBus | None = None, wait_ms: float = 2.0, max_batch: int = 256):
        self.factory, self.district_code, self.bus = factory, district_code, bus
        self.wait, self.max_batch = wait_ms / 1000, max_batch
        self.q: queue.Queue[_Item] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="intake-writer", daemon=True)
        self.thread.start()

    def submit(self, actor: Actor, inp: ReportInput) -> Future[Ack]:
        item = _Item(actor, inp)
        self.q.put(item)
        return item.future

    def _run(self) -> None:
        while True:
            batch = [self.q.get()]
            try:
                while len(batch) < self.max_batch:
                    batch.append(self.q.get(timeout=self.wait))
            except queue.Empty:
                pass
            try:
                self._write(batch)
            except IntegrityError:  # a key raced in from elsewhere: one by one
                for item in batch:
                    if not item.future.done():
                        self._write_one(item)
            except Exception as exc:  # never leave a request waiting
                log.exception("intake batch failed")
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(exc)

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
            s.commit()
        for (item, row), ack in zip(rows, acks, strict=True):
            item.future.set_result(ack)
            for twin in fresh.get(row["idempotency_key"] or "", [])[1:]:
                twin.future.set_result(Ack(ack.id, ack.token, ack.area_code, False))
            if self.bus is not None:
                self.bus.publish("case.changed", {"case_id": ack.id, "action": "report",
                                                  "from": None, "to": "reported",
                                                  "area_code": ack.area_code,
                                                  "department_code": None})

    def _context(self, s: Session, batch: list[_Item], now: Any) -> dict[str, Any]:
        """What a batch looks up once: categories, the grid locator, earlier cases with the
        batch's keys and device fingerprints."""
        from citygrowth.areas.locator import get_locator
        from citygrowth.governance.config import case_settings
        from citygrowth.governance.models import CaseCategory

        keys = {k for i in batch if (k := scoped_key(i.actor, i.inp.idempotency_key))}
        fps = {f for i in batch if (f := fingerprint(i.inp))}
        cols = (Case.id, Case.token, Case.area_code)
        by_key = {r[3]: Ack(r[0], r[1], r[2], False) for r in s.execute(
            select(*cols, Case.idempotency_key).where(Case.idempotency_key.in_(keys)))} \
            if keys else {}
        since = now - dt.timedelta(seconds=case_settings().retry_window_seconds)
        by_fp = {r[3]: Ack(r[0], r[1], r[2], False) for r in s.execute(
            select(*cols, Case.fingerprint).where(Case.fingerprint.in_(fps),
                                                  Case.reported_at >= since))} if fps else {}
        return {"cats": {c.code: c for c in s.scalars(select(CaseCategory))},
                "locator": get_locator(s), "by_key": by_key, "by_fp": by_fp, "now": now}

    def _prepare(self, s: Session, item: _Item, ctx: dict[str, Any]) -> dict[str, Any] | None:
        """The new case's row, or None when the item is already answered (error or retry)."""
        inp = item.inp
        try:
            cat = _check(s, inp, ctx["cats"])
            area = locate(s, inp, self.district_code, ctx["locator"])
            require(item.actor, "case.report", area)
        except CityGrowthError as exc:
            item.future.set_exception(exc)
            return None
        key, fp = scoped_key(item.actor, inp.idempotency_key), fingerprint(inp)
        existing = ctx["by_key"].get(key) or ctx["by_fp"].get(fp)
        if existing is not None:
            item.future.set_result(existing)
            return None
        now = ctx["now"]
        return {"token": secrets.token_urlsafe(12), "idempotency_key": key, "fingerprint": fp,
                "category_code": cat.code, "kind": cat.kind, "component_id": inp.component_id,
                "area_code": area, "department_code": None, "status": "reported",
                "pending": None, "pending_hours": None, "source": inp.source,
                "description": inp.description.strip(), "address": inp.address.strip()[:300],
                "lon": inp.lon, "lat": inp.lat, "photos": list(inp.photos),
                "attributes": inp.attributes, "reporter_user_id": item.actor.user_id,
                "reporter_contact": inp.contact[:200], "device_id": inp.device_id[:100],
                "account_id": inp.account_id[:100], "reported_at": now, "updated_at": now,
                "due_at": None, "warn_at": None, "closed_at": None, "limit_hours": None,
                "supervised": False, "escalation_level": 0, "rework_count": 0,
                "reopen_count": 0, "satisfaction": None, "illustrative": False}

    def _insert(self, s: Session, rows: list[tuple[_Item, dict[str, Any]]],
                now: Any) -> list[Ack]:
        if not rows:
            return []
        table = Case.__table__
        res = s.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                        [r for _, r in rows])
        ids = [r[0] for r in res]
        events = [report_event(cid, item.actor, now, item.inp.description[:500],
                               item.inp.photos, item.inp.source)
                  for cid, (item, _) in zip(ids, rows, strict=True)]
        s.execute(insert(CaseEvent.__table__), events)
        return [Ack(cid, r["token"], r["area_code"], True)
                for cid, (_, r) in zip(ids, rows, strict=True)]

    def _write_one(self, item: _Item) -> None:
        try:
            with self.factory() as s:
                result = submit_report(s, item.actor, item.inp, district_code=self.district_code,
                                       bus=self.bus)
                s.commit()
                c = result.case
                item.future.set_result(Ack(c.id, c.token, c.area_code, result.created))
        except Exception as exc:
            item.future.set_exception(exc)


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
