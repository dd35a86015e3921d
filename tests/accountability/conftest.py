"""Fixtures of the accountability tests: the domain's plugin registered, departments, users."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from citygrowth.accountability import plugin as acc_plugin
from citygrowth.accountability.schemas import TargetIn
from citygrowth.accountability.targets import create_target
from citygrowth.auth.actor import system_actor
from citygrowth.auth.permissions import permission_table
from citygrowth.plugins import get_plugin_manager
from tests.factories import DISTRICT, make_areas, make_department

NAME = "citygrowth.accountability.plugin"


@pytest.fixture(autouse=True)
def accountability_registered() -> Iterator[None]:
    """Make sure the domain's hooks (permissions, routes …) are registered for each test."""
    pm = get_plugin_manager()
    added = pm.get_plugin(NAME) is None
    if added:
        pm.register(acc_plugin, name=NAME)
    permission_table.cache_clear()
    yield
    if added:
        pm.unregister(name=NAME)
    permission_table.cache_clear()


DEPTS = (("education", "教体局"), ("housing", "住建局"), ("urban", "城管局"), ("health", "卫健局"),
         ("science", "科技局"), ("industry", "经信局"), ("invest", "投资促进局"),
         ("ndrc", "发改局"), ("civil", "民政局"), ("hrss", "人社局"), ("finance", "财政局"),
         ("market", "市场监管局"))


def setup_district(session: Session) -> None:
    make_areas(session)
    for code, zh in DEPTS:
        make_department(session, code, zh, code.title())


def school_target(session: Session, **over: Any) -> Any:
    data = {"code": "T-SCHOOLS", "name_zh": "三年新建学校20所", "name_en": "20 new schools",
            "department_code": "education", "co_owners": ["housing"], "area_code": DISTRICT,
            "baseline": 0, "target_value": 20, "start_date": dt.date(2025, 1, 1),
            "deadline": dt.date(2027, 12, 31),
            "milestones": [{"due_date": dt.date(2026, 12, 15), "planned_value": 12,
                            "title_zh": "年度节点"}]}
    data.update(over)
    return create_target(session, system_actor(), TargetIn(**data))
