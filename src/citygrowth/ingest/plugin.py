"""The ingest domain's registrations through citygrowth's plugin hooks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from citygrowth.plugins import hookimpl


@hookimpl
def citygrowth_permissions() -> dict[str, Sequence[str]]:
    return {
        "district_admin": ["data.load", "data.view"],
        "department_officer": ["data.load", "data.view"],
        "analyst": ["data.view"],
        "street_commander": ["data.view"],
        "machine": ["data.view"],
    }


@hookimpl
def citygrowth_data_readers() -> dict[str, Callable[..., Any]]:
    from citygrowth.ingest.readers import BUILTIN_READERS

    return dict(BUILTIN_READERS)
