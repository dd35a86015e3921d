"""Running one variant of a benchmark in a fresh child process, so that each variant's peak
memory is its own and no variant warms a cache for another."""

from __future__ import annotations

import multiprocessing as mp
import resource
from collections.abc import Callable
from queue import Empty
from typing import Any


def _child(fn: Callable[..., dict[str, Any]], args: tuple[Any, ...], queue: Any) -> None:
    out = fn(*args)
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(out)


def measure(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """``fn(*args)`` (a module-level function returning a dict) in a fresh spawned process;
    its dict plus ``peak_mib``, the child's peak resident memory (native memory included)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    while True:
        try:
            result: dict[str, Any] = queue.get(timeout=1)
            break
        except Empty:
            if not proc.is_alive():
                raise RuntimeError(f"{fn.__name__} failed (exit code {proc.exitcode})") from None
    proc.join()
    return result
