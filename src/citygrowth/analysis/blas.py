"""Run small-matrix statistics with single-threaded OpenBLAS.

statsmodels' state-space fits (ARIMA, ETS) do thousands of tiny matrix operations; OpenBLAS
threads only add overhead there (5× more CPU time measured on 2 cores, far worse on a busy
machine). :func:`single_threaded_blas` sets the OpenBLAS libraries that numpy and scipy
loaded to one thread for the duration of a block and restores the previous setting — the
same thing ``threadpoolctl`` does, without a new dependency. Where no OpenBLAS is found it
does nothing.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import numpy  # noqa: F401  (load numpy's and scipy's BLAS first)

_SUFFIXES = ("", "64_")
_lock = threading.RLock()
_depth = [0]
_saved: list[int] = []


@lru_cache(maxsize=1)
def _libraries() -> tuple[tuple[object, object], ...]:
    """(get, set) thread-count functions of each loaded OpenBLAS."""
    import scipy.linalg  # noqa: F401  # lazy: heavy library

    paths: set[str] = set()
    try:
        with open("/proc/self/maps", encoding="utf-8") as fh:
            for line in fh:
                if "openblas" in line.lower() and ".so" in line:
                    paths.add(line.split()[-1])
    except OSError:
        return ()
    out = []
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in _SUFFIXES:
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    out.append((get, put))
                    break
            else:
                continue
            break
    return tuple(out)


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    libs = _libraries()
    with _lock:
        if _depth[0] == 0:
            _saved[:] = [get() for get, _put in libs]  # type: ignore[operator]
            for _get, put in libs:
                put(1)  # type: ignore[operator]
        _depth[0] += 1
    try:
        yield
    finally:
        with _lock:
            _depth[0] -= 1
            if _depth[0] == 0:
                for (_get, put), n in zip(libs, _saved, strict=True):
                    put(n)  # type: ignore[operator]
