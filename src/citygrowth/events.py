"""In-process event bus: services publish, server-sent-event streams and plugins listen.

``publish(topic, payload)`` is synchronous and cheap: it hands the event to every plugin's
``citygrowth_event`` hook and to every subscriber queue (one per open SSE connection). Topics
in use: ``observations.loaded``, ``index.computed``, ``case.changed``, ``target.changed``,
``framework.published``.

**Scope.** Plugins see every event (they are part of the installation). A subscriber — an open
``/api/events`` stream — sees an event only as :func:`visible_payload` allows: each topic is
declared with a :class:`TopicScope` (the permission a reader needs, and whether the event is
bound to areas and to departments), and the payload names its ``area_code`` (or
``area_codes``) and ``department_code``. A topic nobody declared is not streamed at all;
plugins declare theirs with ``runtime.bus.declare(topic, TopicScope(...))``.

**After the commit.** An event that announces a change in the store is published once the
change is committed — :func:`publish_on_commit` from a service's session, the accepted load's
batch promotion, the intake writer after its own commit — so whoever it wakes reads what it
names; a rolled-back change announces nothing.

One bus lives on each runtime (``runtime.bus``); services are given it, never reach a global.
Each process has its own bus; the runtime's is a ``citygrowth.ops.relay.RelayBus``, which also
writes every event to an outbox table that every web process reads, so an event stream sees
the events of every worker, host, the scheduler and the command line (see
docs/operating.md).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor, Grant
from citygrowth.auth.permissions import table_of
from citygrowth.db import utcnow


@dataclass
class Event:
    topic: str
    payload: dict[str, Any]
    at: str = field(default_factory=lambda: utcnow().isoformat())
    id: int = 0


@dataclass(frozen=True)
class TopicScope:
    """Who may read a topic's events: holders of ``permission`` whose grant covers the event's
    areas (``by_area``: the payload's ``area_code`` or ``area_codes``; an event without any is
    the whole district's) and, for department-bound grants, whose department is the event's
    (``by_department``: the payload's ``department_code``; an event of no department reaches
    no department-bound grant)."""

    permission: str
    by_area: bool = True
    by_department: bool = False


#: the built-in topics; plugins add theirs with :meth:`EventBus.declare`
TOPICS: Mapping[str, TopicScope] = {
    # a case as the case lists show it: its grid cell, and for officers their department's
    "case.changed": TopicScope("case.view", by_area=True, by_department=True),
    # a load as the load history shows it: its areas, and for officers their department's
    "observations.loaded": TopicScope("data.view", by_area=True, by_department=True),
    # targets as the target lists show them: by area
    "target.changed": TopicScope("accountability.view", by_area=True),
    # the index and the framework are the district's, read by every index reader
    "index.computed": TopicScope("index.read", by_area=False),
    "framework.published": TopicScope("index.read", by_area=False),
}


class EventBus:
    """Subscribers' queues plus ``on_publish`` (the runtime hands every event to the plugins'
    ``citygrowth_event`` hook through it)."""

    def __init__(self, on_publish: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self._on_publish = on_publish
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]]] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.recent: list[Event] = []
        self.topics: dict[str, TopicScope] = dict(TOPICS)

    def declare(self, topic: str, scope: TopicScope) -> None:
        """Let subscribers read ``topic`` under ``scope`` (a plugin's own topics)."""
        self.topics[topic] = scope

    def subscribe(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=1000)
        with self._lock:
            self._subscribers.append((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        with self._lock:
            self._subscribers = [(lp, q) for lp, q in self._subscribers if q is not queue]

    def since(self, event_id: int) -> list[Event]:
        """The recent events after ``event_id`` (what a reconnecting stream missed)."""
        with self._lock:
            return [e for e in self.recent if e.id > event_id]

    def publish(self, topic: str, payload: dict[str, Any]) -> Event:
        event = Event(topic, payload)
        self.deliver(event)
        if self._on_publish is not None:
            self._on_publish(topic, payload)
        return event

    def deliver(self, event: Event) -> None:
        """Hand ``event`` to this process's subscribers (event streams) only; it gets this
        bus's next id (streams resume after the last id they saw)."""
        with self._lock:
            event.id = next(self._ids)
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


# --- what one subscriber may see ----------------------------------------------------------------

def event_areas(payload: Mapping[str, Any], district_code: str) -> list[str]:
    """The areas an event is about: ``area_code`` and/or ``area_codes``, else the district."""
    codes = [payload["area_code"]] if isinstance(payload.get("area_code"), str) else []
    many = payload.get("area_codes")
    if isinstance(many, list):
        codes += [c for c in many if isinstance(c, str)]
    return codes or [district_code]


def _readers(actor: Actor, scope: TopicScope, payload: Mapping[str, Any]) -> list[Grant]:
    """The actor's grants that give the topic's permission for the event's department."""
    perms = table_of(actor)
    grants = [g for g in actor.grants if scope.permission in perms.get(g.role, frozenset())]
    if scope.by_department:
        dept = payload.get("department_code")
        grants = [g for g in grants if g.department_code is None or g.department_code == dept]
    return grants


def visible_payload(actor: Actor, topic: str, payload: dict[str, Any],
                    scopes: Mapping[str, TopicScope], district_code: str,
                    ) -> dict[str, Any] | None:
    """The event's payload as ``actor`` may see it, or None when it may not see the event.

    For an event about several areas (a load), the areas and every listed item carrying an
    ``area_code`` (a load's warnings) are cut to the reader's areas."""
    scope = scopes.get(topic)
    if scope is None:
        return None  # an undeclared topic is streamed to nobody
    if actor.is_system:
        return payload
    grants = _readers(actor, scope, payload)
    if not grants:
        return None
    if not scope.by_area:
        return payload
    prefixes = tuple(g.area_code for g in grants)
    areas = event_areas(payload, district_code)
    if not any(a.startswith(prefixes) for a in areas):
        return None
    if all(a.startswith(prefixes) for a in areas):
        return payload
    return _cut(payload, prefixes)


def _cut(payload: dict[str, Any], prefixes: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if key == "area_codes" and isinstance(value, list):
            value = [c for c in value if isinstance(c, str) and c.startswith(prefixes)]
        elif isinstance(value, list):
            value = [v for v in value if not isinstance(v, dict)
                     or not isinstance(v.get("area_code"), str)
                     or v["area_code"].startswith(prefixes)]
        out[key] = value
    return out


# --- events that announce a change: published when it is committed ---------------------------

_ON_COMMIT = "citygrowth_events_on_commit"
_COMMITTED = "citygrowth_events_committed"


def publish_on_commit(session: Session, bus: EventBus, topic: str,
                      payload: dict[str, Any]) -> None:
    """Publish ``topic`` when ``session`` commits, and never if it rolls back: a screen or a
    stream woken by the event then reads what the event announces (published at once, a fast
    reader could fetch before the commit and redraw the old figures until the next event)."""
    session.info.setdefault(_ON_COMMIT, []).append((bus, topic, payload))


@sa_event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint released commits nothing yet
        session.info[_COMMITTED] = session.info.pop(_ON_COMMIT, [])


@sa_event.listens_for(Session, "after_transaction_end")
def _publish_committed(session: Session, transaction: Any) -> None:
    """At the end of the outermost transaction: publish what it committed; what it did not
    commit (a rollback, a close) is dropped. Published here, not in after_commit: a
    subscriber may import a module that listens for after_commit, which SQLAlchemy refuses
    while it walks that event's listeners."""
    if transaction.parent is None:
        session.info.pop(_ON_COMMIT, None)
        for bus, topic, payload in session.info.pop(_COMMITTED, []):
            bus.publish(topic, payload)
