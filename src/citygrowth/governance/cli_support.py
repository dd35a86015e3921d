"""Shared by the ``citygrowth cases …`` command modules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace

from citygrowth.errors import ValidationFailed


@contextmanager
def options_named(option_of: Mapping[str, str]) -> Iterator[None]:
    """Re-raise a ``ValidationFailed`` with each problem's field named as its CLI option: the
    services name a bad field as the API and the pages do; here it is the option to fix."""
    try:
        yield
    except ValidationFailed as exc:
        exc.problems = [replace(p, field=option_of.get(p.field or "", p.field))
                        for p in exc.problems]
        raise
