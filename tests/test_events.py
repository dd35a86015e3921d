"""The event bus delivers to async subscribers and plugin hooks."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from citygrowth.events import EventBus, publish_on_commit


def run(coro: Coroutine[Any, Any, str]) -> str:
    """Run a coroutine on a fresh loop in its own thread (independent of any loop that
    another test's tool left running in this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_subscriber_receives_published_event() -> None:
    bus = EventBus()

    async def scenario() -> str:
        queue = bus.subscribe()
        bus.publish("observations.loaded", {"rows": 3})
        event = await asyncio.wait_for(queue.get(), timeout=1)
        bus.unsubscribe(queue)
        return f"{event.topic}:{event.payload['rows']}"

    assert run(scenario()) == "observations.loaded:3"
    assert bus.recent[-1].topic == "observations.loaded"


def test_publish_from_another_thread_reaches_the_loop() -> None:
    bus = EventBus()

    async def scenario() -> str:
        queue = bus.subscribe()
        await asyncio.to_thread(bus.publish, "case.changed", {"id": 7})
        event = await asyncio.wait_for(queue.get(), timeout=1)
        return str(event.payload["id"])

    assert run(scenario()) == "7"


def test_an_announced_change_is_published_when_committed(session: Session) -> None:
    """publish_on_commit: nothing before the commit (a reader woken early would read the old
    state), the events after it, none after a rollback, none for a savepoint alone."""
    bus = EventBus()
    publish_on_commit(session, bus, "index.computed", {"run_id": 1})
    session.execute(text("SELECT 1"))
    with session.begin_nested():
        publish_on_commit(session, bus, "case.changed", {"id": 2})
    assert bus.recent == []
    session.commit()
    assert [(e.topic, e.payload) for e in bus.recent] == [
        ("index.computed", {"run_id": 1}), ("case.changed", {"id": 2})]
    publish_on_commit(session, bus, "case.changed", {"id": 3})
    session.execute(text("SELECT 1"))
    with session.begin_nested():  # released, then rolled back with its transaction
        publish_on_commit(session, bus, "case.changed", {"id": 4})
    session.rollback()
    session.commit()
    assert len(bus.recent) == 2
