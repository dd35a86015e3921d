"""Events across processes: an outbox table in the operational store.

With several uvicorn workers, hosts, a separate scheduler and the command line, an event is
published in one process while the big screen's event stream may be held by another. A
:class:`RelayBus` publishes as the in-process bus does (its own streams, the plugins'
``citygrowth_event`` hook) and queues the event for the outbox; a writer thread inserts it
after — never inside — the publishing request's transaction (on SQLite a second connection
would wait for that transaction's lock). Each web process runs an :class:`OutboxReader` that
reads the rows other processes wrote, every half second, and hands them to its own event
streams only (the plugins' hook already ran where the event was published). Rows older than a
day are removed by the scheduler's ``ops.prune`` job.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import socket
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, func, insert, select

from citygrowth.events import Event, EventBus
from citygrowth.logging_setup import get_logger
from citygrowth.ops.models import OutboxEvent

log = get_logger(__name__)
POLL_SECONDS = 0.5


def process_name() -> str:
    """This process, as the outbox's ``origin`` (host name and process id)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


class RelayBus(EventBus):
    """The in-process bus that also writes every event to the outbox (in the background).
    ``engine`` gives the store's engine when the first event is written (a command that
    publishes nothing never makes one)."""

    def __init__(self, engine: Callable[[], Engine],
                 on_publish: Callable[[str, dict[str, Any]], None] | None = None,
                 origin: str | None = None) -> None:
        super().__init__(on_publish)
        self.engine = engine
        self.origin = origin or process_name()
        self._queue: queue.Queue[Event | None] = queue.Queue(maxsize=10_000)
        self._writer: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def publish(self, topic: str, payload: dict[str, Any]) -> Event:
        event = super().publish(topic, payload)
        self._ensure_writer()
        try:
            self._queue.put_nowait(event)
        except queue.Full:  # the store is unreachable for long: drop rather than block
            log.warning("event outbox full; event not relayed", topic=topic)
        return event

    def _ensure_writer(self) -> None:
        with self._start_lock:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._write_loop, daemon=True,
                                                name="citygrowth-outbox-writer")
                self._writer.start()

    def _write_loop(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            batch = [event]
            while len(batch) < 500:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                batch.append(more)
            rows = [{"topic": e.topic[:80], "payload": e.payload, "at": e.at[:40],
                     "origin": self.origin} for e in batch]
            try:
                with self.engine().begin() as conn:
                    conn.execute(insert(OutboxEvent), rows)
            except Exception:  # the streams of other processes miss these; nothing else does
                log.exception("could not write events to the outbox", count=len(rows))

    def flush(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop the writer (end of a command, shutdown)."""
        if self._writer is None or not self._writer.is_alive():
            return
        self._queue.put(None)
        self._writer.join(timeout)


class OutboxReader:
    """Reads the events other processes wrote and delivers them to this process's streams."""

    def __init__(self, engine: Engine, bus: EventBus, origin: str,
                 interval: float = POLL_SECONDS) -> None:
        self.engine = engine
        self.bus = bus
        self.origin = origin
        self.interval = interval
        self.last_id: int | None = None
        self._task: asyncio.Task[None] | None = None

    def read_new(self) -> list[Event]:
        """Events written since the last call by other processes (none on the first call:
        a stream sees what happens after it connects)."""
        with self.engine.connect() as conn:
            if self.last_id is None:
                self.last_id = int(conn.execute(select(func.max(OutboxEvent.id))).scalar() or 0)
                return []
            rows = conn.execute(
                select(OutboxEvent.id, OutboxEvent.topic, OutboxEvent.payload, OutboxEvent.at,
                       OutboxEvent.origin)
                .where(OutboxEvent.id > self.last_id).order_by(OutboxEvent.id).limit(1000)
            ).all()
        out = []
        for row in rows:
            self.last_id = max(self.last_id, int(row.id))
            if row.origin != self.origin:
                out.append(Event(row.topic, dict(row.payload or {}), row.at))
        return out

    async def run(self) -> None:
        while True:
            try:
                for event in await asyncio.to_thread(self.read_new):
                    self.bus.deliver(event)
            except Exception:  # a broken store shows elsewhere; keep trying
                log.exception("could not read the event outbox")
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
