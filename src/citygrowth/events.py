"""In-process event bus: services publish, server-sent-event streams and plugins listen.

``publish(topic, payload)`` is synchronous and cheap: it hands the event to every plugin's
``citygrowth_event`` hook and to every subscriber queue (one per open SSE connection). Topics
in use: ``observations.loaded``, ``index.computed``, ``case.changed``, ``target.changed``.

One bus lives on each runtime (``runtime.bus``); services are given it, never reach a global.
Each process has its own bus; the runtime's is a ``citygrowth.ops.relay.RelayBus``, which also
writes every event to an outbox table that every web process reads, so an event stream sees
the events of every worker, host, the scheduler and the command line (see
docs/operating.md).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from citygrowth.db import utcnow


@dataclass
class Event:
    topic: str
    payload: dict[str, Any]
    at: str = field(default_factory=lambda: utcnow().isoformat())


class EventBus:
    """Subscribers' queues plus ``on_publish`` (the runtime hands every event to the plugins'
    ``citygrowth_event`` hook through it)."""

    def __init__(self, on_publish: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self._on_publish = on_publish
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]]] = []
        self._lock = threading.Lock()
        self.recent: list[Event] = []

    def subscribe(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=1000)
        with self._lock:
            self._subscribers.append((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        with self._lock:
            self._subscribers = [(lp, q) for lp, q in self._subscribers if q is not queue]

    def publish(self, topic: str, payload: dict[str, Any]) -> Event:
        event = Event(topic, payload)
        self.deliver(event)
        if self._on_publish is not None:
            self._on_publish(topic, payload)
        return event

    def deliver(self, event: Event) -> None:
        """Hand ``event`` to this process's subscribers (event streams) only."""
        with self._lock:
            self.recent = [*self.recent[-99:], event]
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            try:
                loop.call_soon_threadsafe(_offer, queue, event)
            except RuntimeError:  # loop closed: the connection is gone
                self.unsubscribe(queue)


def _offer(queue: asyncio.Queue[Event], event: Event) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(event)
