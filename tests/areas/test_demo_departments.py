"""Every department the default framework names exists in the demo district."""

from __future__ import annotations

from citygrowth.areas.demo import DEPARTMENTS
from citygrowth.catalog.framework import builtin_framework


def test_framework_departments_are_demo_departments() -> None:
    demo = {code for code, _zh, _en in DEPARTMENTS}
    named = {i.department for i in builtin_framework().indicators}
    assert named <= demo, sorted(named - demo)
