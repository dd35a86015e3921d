"""The governance domain's registrations through citygrowth's plugin hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from citygrowth.plugins import DemoStep, NavItem, ScheduledJob, hookimpl


@hookimpl
def citygrowth_permissions() -> dict[str, Sequence[str]]:
    from citygrowth.governance.permissions import PERMISSIONS

    return PERMISSIONS
