"""Administration of case categories and dispatch rules: the pages (``/admin/cases/…``) and
their JSON twins (``/api/admin/cases/…``). Both call the services in ``governance.admin`` and
``governance.dispatch``, which check the permission ``case.taxonomy`` and audit every change."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth import inputs
from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.models import Department
from citygrowth.auth.permissions import require
from citygrowth.errors import ValidationFailed
from citygrowth.governance import admin, dispatch
from citygrowth.governance.forms import errors_by_field
from citygrowth.governance.models import CaseCategory, DispatchRule
from citygrowth.governance.schemas import (
    AdminCategoryAnswer,
    CategoryEditIn,
    CategoryIn,
    CategoryTreeOut,
    RuleAnswer,
    RuleDeletedOut,
    RuleIn,
    RuleOut,
)
from citygrowth.i18n import bilingual
from citygrowth.web.deps import ActorDep, SessionDep, UserDep
from citygrowth.web.paging import Page, PageRequest, paging
from citygrowth.web.templating import render_page
from citygrowth.web.urls import redirect, route_path

api = APIRouter(tags=["case administration"])
pages = APIRouter(tags=["case administration"], default_response_class=HTMLResponse)

CatCode = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_.-]+$")]
RuleId = Annotated[int, Path(ge=1, le=2**31)]
Text = Annotated[inputs.Text, Form(max_length=1000)]


def _tree_json(nodes: list[admin.CategoryNode]) -> list[dict[str, Any]]:
    return [{**admin.category_dict(n.category),
             "sub_categories": [admin.category_dict(c) for c in n.children]} for n in nodes]


# --- JSON API --------------------------------------------------------------------------------

@api.get("/api/admin/cases/categories", summary="Every case category (大类 → 小类, active or not)",
         response_model=Page[CategoryTreeOut])
def api_categories(session: SessionDep, actor: UserDep,
                   page: Annotated[PageRequest, paging(100, 500)]) -> dict[str, Any]:
    """大类 by code, each with its 小类."""
    return page.slice(_tree_json(admin.category_tree(session, actor)))


@api.post("/api/admin/cases/categories", summary="Add a case category", status_code=201,
          response_model=AdminCategoryAnswer)
def api_category_add(session: SessionDep, actor: UserDep, body: CategoryIn) -> dict[str, Any]:
    cat = admin.create_category(session, actor, body.model_dump())
    return {"ok": True, "category": admin.category_dict(cat)}


@api.get("/api/admin/cases/categories/{code}", summary="One case category, active or not",
         response_model=AdminCategoryAnswer)
def api_category(session: SessionDep, actor: UserDep, code: CatCode) -> dict[str, Any]:
    return {"ok": True, "category": admin.category_dict(
        admin.get_any_category(session, actor, code))}


@api.put("/api/admin/cases/categories/{code}",
         summary="Edit a case category's names, default department and time limit",
         response_model=AdminCategoryAnswer)
def api_category_edit(session: SessionDep, actor: UserDep, code: CatCode,
                      body: CategoryEditIn) -> dict[str, Any]:
    cat = admin.update_category(session, actor, code, body.model_dump())
    return {"ok": True, "category": admin.category_dict(cat)}


@api.post("/api/admin/cases/categories/{code}/deactivate",
          summary="Deactivate a case category (a 大类 with its 小类); reports then refuse it",
          response_model=AdminCategoryAnswer)
def api_category_deactivate(session: SessionDep, actor: UserDep,
                            code: CatCode) -> dict[str, Any]:
    cat = admin.set_category_active(session, actor, code, False)
    return {"ok": True, "category": admin.category_dict(cat)}


@api.post("/api/admin/cases/categories/{code}/reactivate",
          summary="Reactivate a case category (a 小类 only under an active 大类)",
          response_model=AdminCategoryAnswer)
def api_category_reactivate(session: SessionDep, actor: UserDep,
                            code: CatCode) -> dict[str, Any]:
    cat = admin.set_category_active(session, actor, code, True)
    return {"ok": True, "category": admin.category_dict(cat)}


@api.get("/api/admin/cases/rules", summary="Dispatch rules", response_model=Page[RuleOut])
def api_rules(session: SessionDep, actor: UserDep,
              page: Annotated[PageRequest, paging(200, 1000)]) -> dict[str, Any]:
    require(actor, admin.PERMISSION, None)
    return page.slice([dispatch.rule_dict(r) for r in dispatch.list_rules(session, actor)])


@api.post("/api/admin/cases/rules", summary="Add a dispatch rule", status_code=201,
          response_model=RuleAnswer)
def api_rule_add(session: SessionDep, actor: UserDep, body: RuleIn) -> dict[str, Any]:
    return {"ok": True, "rule": dispatch.rule_dict(
        dispatch.add_rule(session, actor, body.model_dump()))}


@api.put("/api/admin/cases/rules/{rule_id}", summary="Change a dispatch rule",
         response_model=RuleAnswer)
def api_rule_edit(session: SessionDep, actor: UserDep, rule_id: RuleId,
                  body: RuleIn) -> dict[str, Any]:
    return {"ok": True, "rule": dispatch.rule_dict(
        dispatch.update_rule(session, actor, rule_id, body.model_dump()))}


@api.delete("/api/admin/cases/rules/{rule_id}", summary="Delete a dispatch rule",
            response_model=RuleDeletedOut)
def api_rule_delete(session: SessionDep, actor: UserDep, rule_id: RuleId) -> dict[str, Any]:
    dispatch.delete_rule(session, actor, rule_id)
    return {"ok": True, "deleted": rule_id}


# --- pages -----------------------------------------------------------------------------------

def _gate(request: Request, actor: Actor) -> Response | None:
    """Anonymous visitors go to the login page; others need the permission (403 otherwise)."""
    if actor.is_anonymous:
        target = quote(route_path(request.scope)
                   + (f"?{request.url.query}" if request.url.query else ""))
        return redirect(request, f"/login?next={target}")
    require(actor, admin.PERMISSION, None)
    return None


def _choices(session: Session) -> dict[str, Any]:
    depts = session.scalars(select(Department).where(Department.active.is_(True))
                            .order_by(Department.code))
    return {"departments": [(d.code, bilingual(d.name_zh, d.name_en)) for d in depts]}


def _category_form(request: Request, session: Session, actor: Actor, *, mode: str,
                   values: dict[str, Any], category: CaseCategory | None = None,
                   parent: CaseCategory | None = None, err: ValidationFailed | None = None
                   ) -> Response:
    errors, other = errors_by_field(err) if err else ({}, [])
    majors = session.scalars(select(CaseCategory).where(
        CaseCategory.parent_code.is_(None), CaseCategory.active.is_(True))
        .order_by(CaseCategory.code))
    return render_page(request, "governance/admin_category_form.html", actor, {
        "mode": mode, "values": values, "category": category, "parent": parent,
        "errors": errors, "other_errors": other,
        "majors": [(c.code, bilingual(c.name_zh, c.name_en)) for c in majors],
        **_choices(session)}, status_code=422 if err else 200)


def _form_values(**kw: Any) -> dict[str, Any]:
    return {k: (v or "").strip() if isinstance(v, str) else v for k, v in kw.items()}


@pages.get("/admin/cases/categories", summary="Case categories (administration)")
def categories_page(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    if (gate := _gate(request, actor)) is not None:
        return gate
    tree = admin.category_tree(session, actor)
    names = dict(_choices(session)["departments"])
    return render_page(request, "governance/admin_categories.html", actor, {
        "tree": tree, "departments": names})


@pages.get("/admin/cases/categories/new", summary="Form: add a case category")
def category_new(request: Request, session: SessionDep, actor: ActorDep,
                 parent: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    if (gate := _gate(request, actor)) is not None:
        return gate
    return _category_form(request, session, actor, mode="new",
                          values={"parent_code": (parent or "").upper()})


@pages.post("/admin/cases/categories/new", summary="Add a case category (form)")
def category_create(request: Request, session: SessionDep, actor: UserDep,
                    code: Text = "", parent_code: Text = "", name_zh: Text = "",
                    name_en: Text = "", department_code: Text = "",
                    time_limit_hours: Text = "", after_photo_required: Text = "") -> Response:
    values = _form_values(code=code, parent_code=parent_code, name_zh=name_zh,
                          name_en=name_en, department_code=department_code,
                          time_limit_hours=time_limit_hours,
                          after_photo_required=after_photo_required)
    try:
        admin.create_category(session, actor, values)
    except ValidationFailed as err:
        return _category_form(request, session, actor, mode="new", values=values, err=err)
    return redirect(request, "/admin/cases/categories")


@pages.get("/admin/cases/categories/{code}/edit", summary="Form: edit a case category")
def category_edit(request: Request, session: SessionDep, actor: ActorDep,
                  code: CatCode) -> Response:
    if (gate := _gate(request, actor)) is not None:
        return gate
    cat = admin.get_any_category(session, actor, code)
    values = {k: getattr(cat, k) for k in admin.EDITABLE}
    values = {k: "" if v is None else (f"{v:g}" if isinstance(v, float) else v)
              for k, v in values.items()}
    return _category_form(request, session, actor, mode="edit", values=values, category=cat)


@pages.post("/admin/cases/categories/{code}/edit", summary="Edit a case category (form)")
def category_update(request: Request, session: SessionDep, actor: UserDep, code: CatCode,
                    name_zh: Text = "", name_en: Text = "", department_code: Text = "",
                    time_limit_hours: Text = "", after_photo_required: Text = "") -> Response:
    values = _form_values(name_zh=name_zh, name_en=name_en, department_code=department_code,
                          time_limit_hours=time_limit_hours,
                          after_photo_required=after_photo_required)
    try:
        admin.update_category(session, actor, code, values)
    except ValidationFailed as err:
        cat = admin.get_any_category(session, actor, code)
        return _category_form(request, session, actor, mode="edit", values=values,
                              category=cat, err=err)
    return redirect(request, "/admin/cases/categories")


@pages.post("/admin/cases/categories/{code}/active",
            summary="Deactivate or reactivate a case category (form)")
def category_active(request: Request, session: SessionDep, actor: UserDep, code: CatCode,
                    active: Annotated[str, Form(pattern=r"^[01]$")]) -> Response:
    admin.set_category_active(session, actor, code, active == "1")
    return redirect(request, f"/admin/cases/categories#cat-{code}")


def _rule_form(request: Request, session: Session, actor: Actor, *, values: dict[str, Any],
               rule: DispatchRule | None = None, err: ValidationFailed | None = None
               ) -> Response:
    errors, other = errors_by_field(err) if err else ({}, [])
    cats = session.scalars(select(CaseCategory).order_by(CaseCategory.code))
    return render_page(request, "governance/admin_rule_form.html", actor, {
        "values": values, "rule": rule, "errors": errors, "other_errors": other,
        "categories": [(c.code, bilingual(c.name_zh, c.name_en), c.active) for c in cats],
        **_choices(session)}, status_code=422 if err else 200)


@pages.get("/admin/cases/rules", summary="Dispatch rules (administration)")
def rules_page(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    if (gate := _gate(request, actor)) is not None:
        return gate
    rules = dispatch.list_rules(session, actor)
    cats = {c.code: bilingual(c.name_zh, c.name_en)
            for c in session.scalars(select(CaseCategory))}
    prefixes = {r.area_prefix for r in rules if r.area_prefix}
    areas = {a.code: bilingual(a.name_zh, a.name_en)
             for a in session.scalars(select(Area).where(Area.code.in_(prefixes)))}
    return render_page(request, "governance/admin_rules.html", actor, {
        "rules": rules, "categories": cats, "areas": areas,
        "departments": dict(_choices(session)["departments"])})


@pages.get("/admin/cases/rules/new", summary="Form: add a dispatch rule")
def rule_new(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    if (gate := _gate(request, actor)) is not None:
        return gate
    return _rule_form(request, session, actor, values={"priority": "0"})


@pages.post("/admin/cases/rules/new", summary="Add a dispatch rule (form)")
def rule_create(request: Request, session: SessionDep, actor: UserDep,
                category_code: Text = "", area_prefix: Text = "", department_code: Text = "",
                priority: Text = "", note: Text = "") -> Response:
    values = _form_values(category_code=category_code, area_prefix=area_prefix,
                          department_code=department_code, priority=priority, note=note)
    try:
        dispatch.add_rule(session, actor, values)
    except ValidationFailed as err:
        return _rule_form(request, session, actor, values=values, err=err)
    return redirect(request, "/admin/cases/rules")


@pages.get("/admin/cases/rules/{rule_id}/edit", summary="Form: change a dispatch rule")
def rule_edit(request: Request, session: SessionDep, actor: ActorDep,
              rule_id: RuleId) -> Response:
    if (gate := _gate(request, actor)) is not None:
        return gate
    rule = dispatch.get_rule(session, actor, rule_id)
    values = {**dispatch.rule_dict(rule), "category_code": rule.category_code or "",
              "priority": str(rule.priority)}
    return _rule_form(request, session, actor, values=values, rule=rule)


@pages.post("/admin/cases/rules/{rule_id}/edit", summary="Change a dispatch rule (form)")
def rule_update(request: Request, session: SessionDep, actor: UserDep, rule_id: RuleId,
                category_code: Text = "", area_prefix: Text = "", department_code: Text = "",
                priority: Text = "", note: Text = "") -> Response:
    values = _form_values(category_code=category_code, area_prefix=area_prefix,
                          department_code=department_code, priority=priority, note=note)
    try:
        dispatch.update_rule(session, actor, rule_id, values)
    except ValidationFailed as err:
        rule = dispatch.get_rule(session, actor, rule_id)
        return _rule_form(request, session, actor, values=values, rule=rule, err=err)
    return redirect(request, "/admin/cases/rules")


@pages.post("/admin/cases/rules/{rule_id}/delete", summary="Delete a dispatch rule (form)")
def rule_delete(request: Request, session: SessionDep, actor: UserDep, rule_id: RuleId) -> Response:
    dispatch.delete_rule(session, actor, rule_id)
    return redirect(request, "/admin/cases/rules")
