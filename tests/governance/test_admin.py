"""Administering case categories and dispatch rules through the services, on SQLite and
PostgreSQL: what intake and dispatch then do, each validation error by field in both languages,
the permission and the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from citygrowth.auth.audit import verify
from citygrowth.auth.models import AuditEntry
from citygrowth.errors import Conflict, Forbidden, ValidationFailed
from citygrowth.governance import admin, dispatch
from citygrowth.governance.lifecycle import transition
from citygrowth.governance.taxonomy import leaf_categories
from tests.factories import STREET_A, STREET_B
from tests.governance.conftest import GRID_A, POS_A, POS_B, RUNTIME, World

NEW_MINOR = {"code": "E0104", "parent_code": "E01", "name_zh": "乱倒污水",
             "name_en": "Dumped sewage", "department_code": "ecology", "time_limit_hours": "6"}


def _audit(world: World) -> list[tuple[str, str]]:
    return [(e.action, e.target) for e in world.session.scalars(
        select(AuditEntry).order_by(AuditEntry.id))]


def _problems(err: ValidationFailed, locale: str) -> dict[str, str]:
    return {p["field"]: p["message"] for p in err.to_dict(locale)["errors"]}


def test_add_edit_deactivate_category_as_intake_sees_it(world: World) -> None:
    adm = world.actors["admin"]
    major = admin.create_category(world.session, adm, {
        "code": "e08", "name_zh": "网格事务", "name_en": "Grid affairs",
        "department_code": "civil", "time_limit_hours": 12})
    assert (major.code, major.kind, major.parent_code, major.active) == ("E08", "event", None,
                                                                          True)
    minor = admin.create_category(world.session, adm, NEW_MINOR)
    assert minor.time_limit_hours == 6.0 and minor.department_code == "ecology"
    assert "E0104" in [c.code for c in leaf_categories(world.session)]
    case = world.report(category="E0104")
    assert case.category_code == "E0104" and case.kind == "event"

    admin.update_category(world.session, adm, "E0104", {
        "name_zh": "乱倒污水（改）", "name_en": "", "department_code": "",
        "time_limit_hours": ""})
    edited = admin.get_any_category(world.session, adm, "E0104")
    assert (edited.name_zh, edited.department_code, edited.time_limit_hours) == (
        "乱倒污水（改）", None, None)

    admin.set_category_active(world.session, adm, "E0104", False)
    assert "E0104" not in [c.code for c in leaf_categories(world.session)]
    with pytest.raises(ValidationFailed) as err:
        world.report(category="E0104")
    assert err.value.problems[0].field == "category_code"
    assert err.value.to_dict("zh_CN")["errors"][0]["message"] == "没有案件类别 E0104。"
    # the case reported before stays, with its category
    assert world.session.get(type(case), case.id).category_code == "E0104"

    admin.set_category_active(world.session, adm, "E0104", True)
    assert world.report(category="E0104", description="又一次").category_code == "E0104"
    actions = [a for a, _ in _audit(world)]
    assert actions == ["case_category.create", "case_category.create", "case_category.update",
                       "case_category.deactivate", "case_category.reactivate"]
    entry = world.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "case_category.update")).one()
    assert entry.actor == "admin" and entry.target == "case_category:E0104"
    assert entry.detail["changed"]["department_code"] == ["ecology", None]
    assert verify(world.session).ok


def test_deactivating_a_main_category_deactivates_its_sub_categories(world: World) -> None:
    adm = world.actors["admin"]
    admin.set_category_active(world.session, adm, "E05", False)
    leaves = {c.code for c in leaf_categories(world.session)}
    assert not leaves & {"E0501", "E0502", "E0503"}
    with pytest.raises(ValidationFailed):
        world.report(category="E0501")
    with pytest.raises(Conflict) as err:
        admin.set_category_active(world.session, adm, "E0502", True)
    assert err.value.render_message("en") == "Reactivate its category E05 first."
    assert err.value.render_message("zh_CN") == "请先重新启用其所属大类 E05。"
    with pytest.raises(ValidationFailed) as bad:
        admin.create_category(world.session, adm, {**NEW_MINOR, "code": "E0504",
                                                   "parent_code": "E05"})
    assert _problems(bad.value, "en") == {"parent_code": "The category E05 is deactivated."}
    admin.set_category_active(world.session, adm, "E05", True)
    admin.set_category_active(world.session, adm, "E0502", True)
    leaves = {c.code for c in leaf_categories(world.session)}
    assert "E0502" in leaves and "E0501" not in leaves
    deact = world.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "case_category.deactivate")).one()
    assert deact.detail == {"sub_categories": ["E0501", "E0502", "E0503"]}


@pytest.mark.parametrize(("data", "field", "en", "zh"), [
    ({"code": "E0101"}, "code", "A category with the code E0101 exists already.",
     "代码为 E0101 的类别已存在。"),
    ({"code": "E9901", "parent_code": "E99"}, "parent_code", "No case category E99.",
     "没有案件类别 E99。"),
    ({"code": "E010101", "parent_code": "E0101"}, "parent_code",
     "A sub-category belongs to a main category, not to another sub-category.",
     "小类只能属于大类，不能属于另一个小类。"),
    ({"code": "C0199"}, "code", "A sub-category's code is its category's code and two digits, "
     "e.g. E0101.", "小类代码为所属大类代码加两位数字，例如 E0101。"),
    ({"code": "X9", "parent_code": ""}, "code", "A main category's code is C (components) or E "
     "(events) and two digits, e.g. E08.",
     "大类代码为 C（部件）或 E（事件）加两位数字，例如 E08。"),
    ({"name_zh": "  "}, "name_zh", "A Chinese name is required.", "必须填写中文名称。"),
    ({"name_en": "x" * 161}, "name_en", "At most 160 characters.", "最多 160 个字符。"),
    ({"department_code": "nobody"}, "department_code", "No department nobody to dispatch to.",
     "没有可派遣的部门 nobody。"),
    ({"time_limit_hours": "abc"}, "time_limit_hours", "Enter a number.", "请输入数字。"),
    ({"time_limit_hours": "0"}, "time_limit_hours",
     "Enter a number greater than 0 and at most 1000.", "请输入大于 0、不超过 1000 的数字。"),
    ({"time_limit_hours": float("nan")}, "time_limit_hours", "Enter a number.", "请输入数字。"),
    ({"time_limit_hours": 5000}, "time_limit_hours",
     "Enter a number greater than 0 and at most 1000.", "请输入大于 0、不超过 1000 的数字。"),
])
def test_category_errors_name_the_field_in_both_languages(
        sworld: World, data: dict[str, Any], field: str, en: str, zh: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        admin.create_category(sworld.session, sworld.actors["admin"], {**NEW_MINOR, **data})
    assert _problems(err.value, "en") == {field: en}
    assert _problems(err.value, "zh_CN") == {field: zh}
    assert [a for a, _ in _audit(sworld)] == []


def test_editing_keeps_code_and_parent(sworld: World) -> None:
    adm = sworld.actors["admin"]
    with pytest.raises(ValidationFailed) as err:
        admin.update_category(sworld.session, adm, "E0101", {
            "code": "E0199", "parent_code": "E02", "name_zh": "暴露垃圾",
            "time_limit_hours": "-1"})
    assert set(_problems(err.value, "en")) == {"code", "parent_code", "time_limit_hours"}
    # the unchanged code and parent may be sent back as they are (a full form)
    cat = admin.update_category(sworld.session, adm, "e0101", {
        "code": "E0101", "parent_code": "E01", "name_zh": "暴露垃圾", "time_limit_hours": 3})
    assert cat.time_limit_hours == 3.0


def test_only_district_administrators_configure(sworld: World) -> None:
    s = sworld.session
    calls = (lambda a: admin.category_tree(s, a),
             lambda a: admin.create_category(s, a, NEW_MINOR),
             lambda a: admin.update_category(s, a, "E0101", {"name_zh": "x"}),
             lambda a: admin.set_category_active(s, a, "E0101", False),
             lambda a: dispatch.add_rule(s, a, {"department_code": "urban"}),
             lambda a: dispatch.update_rule(s, a, 1, {"department_code": "urban"}),
             lambda a: dispatch.delete_rule(s, a, 1))
    for who in ("cmd_a", "urban", "worker_a", "analyst", "resident"):
        for call in calls:
            with pytest.raises(Forbidden):
                call(sworld.actors[who])
    assert s.get(type(leaf_categories(s)[0]), "E0101").active


def test_dispatch_rule_add_edit_delete_as_dispatch_uses_it(world: World) -> None:
    adm, s = world.actors["admin"], world.session
    assert dispatch.route(s, "E0101", GRID_A) == "urban"  # the category's default
    rule = dispatch.add_rule(s, adm, {"category_code": "e0101", "area_prefix": STREET_A,
                                      "department_code": "market", "priority": "5",
                                      "note": "街道1 市场监管"})
    assert (rule.category_code, rule.priority) == ("E0101", 5)
    assert dispatch.route(s, "E0101", GRID_A) == "market"
    assert dispatch.route(s, "E0101", STREET_B + "001001") == "urban"
    case = world.report(POS_A)
    transition(s, adm, case, "register", runtime=RUNTIME)
    transition(s, adm, case, "dispatch", runtime=RUNTIME)
    assert case.department_code == "market"

    dispatch.update_rule(s, adm, rule.id, {"category_code": "", "area_prefix": STREET_B,
                                           "department_code": "civil", "priority": 0})
    assert dispatch.route(s, "E0101", GRID_A) == "urban"
    assert dispatch.route(s, "E0602", STREET_B + "002001") == "civil"
    other = world.report(POS_B, actor=world.actors["worker_b"], category="E0602")
    transition(s, adm, other, "register", runtime=RUNTIME)
    transition(s, adm, other, "dispatch", runtime=RUNTIME)
    assert other.department_code == "civil"

    dispatch.delete_rule(s, adm, rule.id)
    assert dispatch.list_rules(s, adm) == []
    assert dispatch.route(s, "E0602", STREET_B + "002001") == "ecology"
    entries = world.session.scalars(select(AuditEntry).where(
        AuditEntry.action.like("dispatch_rule.%")).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["dispatch_rule.create", "dispatch_rule.update",
                                           "dispatch_rule.delete"]
    assert {e.target for e in entries} == {f"dispatch_rule:{rule.id}"}
    assert entries[1].detail["changed"]["department_code"] == ["market", "civil"]
    assert entries[2].detail["department_code"] == "civil"


@pytest.mark.parametrize(("data", "field", "en", "zh"), [
    ({"category_code": "E9999"}, "category_code", "No case category E9999.",
     "没有案件类别 E9999。"),
    ({"department_code": ""}, "department_code", "Choose a department.", "请选择部门。"),
    ({"department_code": "nobody"}, "department_code", "No department nobody to dispatch to.",
     "没有可派遣的部门 nobody。"),
    ({"area_prefix": "37020x"}, "area_prefix", "The area prefix must be digits of an area code.",
     "区域前缀必须是区划代码的数字。"),
    ({"area_prefix": "370203009"}, "area_prefix", "No area has the code 370203009.",
     "没有代码为 370203009 的区域。"),
    ({"priority": "1.5"}, "priority", "Enter a whole number.", "请输入整数。"),
    ({"priority": "high"}, "priority", "Enter a whole number.", "请输入整数。"),
    ({"priority": 10**400}, "priority", "Enter a whole number.", "请输入整数。"),
    ({"priority": "1001"}, "priority", "Enter a number from -1000 to 1000.",
     "请输入 -1000 至 1000 之间的数字。"),
    ({"note": "x" * 301}, "note", "At most 300 characters.", "最多 300 个字符。"),
])
def test_rule_errors_name_the_field_in_both_languages(
        sworld: World, data: dict[str, Any], field: str, en: str, zh: str) -> None:
    base = {"category_code": "E0101", "area_prefix": STREET_A, "department_code": "market"}
    with pytest.raises(ValidationFailed) as err:
        dispatch.add_rule(sworld.session, sworld.actors["admin"], {**base, **data})
    assert _problems(err.value, "en") == {field: en}
    assert _problems(err.value, "zh_CN") == {field: zh}


def test_a_second_rule_with_the_same_key_is_refused(sworld: World) -> None:
    adm, s = sworld.actors["admin"], sworld.session
    base = {"category_code": "E0101", "area_prefix": STREET_A, "department_code": "market"}
    first = dispatch.add_rule(s, adm, base)
    with pytest.raises(ValidationFailed) as err:
        dispatch.add_rule(s, adm, {**base, "department_code": "civil"})
    assert list(_problems(err.value, "en")) == ["priority"]
    second = dispatch.add_rule(s, adm, {**base, "department_code": "civil", "priority": 1})
    assert dispatch.route(s, "E0101", GRID_A) == "civil"
    with pytest.raises(ValidationFailed):
        dispatch.update_rule(s, adm, second.id, base)  # would equal the first
    dispatch.update_rule(s, adm, first.id, base)  # a rule does not clash with itself
