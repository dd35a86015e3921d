"""The event bus delivers to async subscribers and plugin hooks."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from citygrowth.events import EventBus


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
