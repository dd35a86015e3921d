"""What the benchmarks that drive a live server share: waiting for it and reading latencies."""

from __future__ import annotations

import time

import httpx


def wait_ready(client: httpx.Client, seconds: float, pause: float = 0.2) -> None:
    """Return once ``/healthz`` answers; raise the connection error after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            client.get("/healthz")
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(pause)


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0–1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
