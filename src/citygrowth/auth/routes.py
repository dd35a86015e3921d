"""Login and logout pages, and the JSON API of users, grants, API keys and the audit log."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from citygrowth.auth import service as svc
from citygrowth.auth.actor import ROLES, Actor
from citygrowth.auth.csrf import CsrfFailed, csrf_token, rotate_csrf_token, token_matches
from citygrowth.auth.login import login, login_delay
from citygrowth.auth.schemas import (
    USERNAME,
    ApiKeyIn,
    ApiKeyOut,
    AuditEntryOut,
    AuditVerifyOut,
    CsrfOut,
    GrantIn,
    MeOut,
    NewApiKeyOut,
    PasswordIn,
    RoleOut,
    UserIn,
    UserOut,
)
from citygrowth.auth.sessions import start_session
from citygrowth.errors import CityGrowthError, Problem, ValidationFailed
from citygrowth.i18n import get_locale, translate
from citygrowth.inputs import Text
from citygrowth.web.deps import ActorDep, RuntimeDep, SessionDep, SettingsDep, UserDep
from citygrowth.web.errors import render_error, wants_html
from citygrowth.web.openapi import ERROR_TEXT, REDIRECT
from citygrowth.web.paging import Page, PageRequest, paging
from citygrowth.web.templating import render_page
from citygrowth.web.urls import redirect

pages = APIRouter(tags=["auth"])
api = APIRouter(prefix="/api/auth", tags=["auth"])

UsernamePath = Annotated[str, Path(pattern=USERNAME)]


def safe_next(target: str | None) -> str:
    """Only local paths may be redirected to after login (no ``//host`` or ``scheme:``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(c in target for c in "\r\n\\") or ":" in target.split("?", 1)[0]:
        return "/"
    return target


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@pages.get("/login", summary="Login page", response_class=HTMLResponse)
def login_page(
    request: Request, actor: ActorDep,
    next: Annotated[str, Query(max_length=500)] = "/",
) -> Response:
    """The login form (Chinese first; English through the language switch)."""
    return render_page(request, "auth/login.html", actor,
                       {"next": safe_next(next), "login_error": None, "username": ""})


def _login_failed(request: Request, actor: Actor, exc: CityGrowthError, username: str,
                  next_path: str) -> Response:
    if not wants_html(request):
        return render_error(request, exc)
    return render_page(request, "auth/login.html", actor, {
        "next": next_path, "username": username,
        "login_error": exc.render_message(get_locale()),
    }, status_code=exc.status)


@pages.post("/login", summary="Log in", response_class=HTMLResponse,
            responses={**REDIRECT, 429: {"description": ERROR_TEXT["429"]}})
async def login_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
    username: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token_field: Annotated[str, Form(alias="csrf_token", max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Check the user name and password; on success start a session and go to ``next``.
    While failures pile up, the answer comes later and later (without holding a worker);
    once a budget is used up, 429 with ``Retry-After``."""
    next_path = safe_next(next)
    client = _client(request)
    try:
        if not token_matches(request.session, csrf_token_field):
            raise CsrfFailed()
        delay = await run_in_threadpool(login_delay, session, username, client, settings)
        if delay:
            await asyncio.sleep(delay)
        user = await run_in_threadpool(login, session, username, password, client, settings)
    except CityGrowthError as exc:
        return _login_failed(request, actor, exc, username, next_path)
    assert user.user_id is not None and user.session_version is not None
    start_session(request.session, user.user_id, user.session_version)
    rotate_csrf_token(request)
    return redirect(request, next_path)


@pages.post("/logout", summary="Log out", response_class=HTMLResponse, status_code=303,
            responses=REDIRECT)
def logout(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    """End the web session — and every other session of the same user (other devices, a
    copied cookie)."""
    if not actor.is_anonymous and actor.api_key_id is None:
        svc.end_own_sessions(session, actor)
    request.session.clear()
    return redirect(request, "/")


@pages.get("/account", summary="Your account: change your password",
           response_class=HTMLResponse)
def account_page(request: Request, actor: UserDep) -> Response:
    """The form to change one's own password (the current one is asked for)."""
    return render_page(request, "auth/account.html", actor, {"done": False, "problems": []})


@pages.post("/account/password", summary="Change your password",
            response_class=HTMLResponse)
def account_password(
    request: Request, session: SessionDep, actor: UserDep,
    current_password: Annotated[str, Form(max_length=200)],
    password: Annotated[Text, Form(max_length=200)],
    confirm: Annotated[str, Form(max_length=200)],
) -> Response:
    """Change one's own password; every other session of the user ends, this one goes on."""
    try:
        if password != confirm:
            raise ValidationFailed(problems=[Problem(message="The two new passwords differ.",
                                                     field="confirm")])
        version = svc.set_password(session, actor, actor.username, password, current_password)
    except ValidationFailed as exc:
        session.rollback()
        return render_page(request, "auth/account.html", actor, {
            "done": False, "problems": [p.render(get_locale()) for p in exc.problems]},
            status_code=422)
    _keep_own_session(request, actor, version)
    return render_page(request, "auth/account.html", actor, {"done": True, "problems": []})


def _keep_own_session(request: Request, actor: Actor, version: int) -> None:
    """After one's own password change, this browser's session goes on with the new version."""
    if actor.api_key_id is None and actor.user_id is not None and "session" in request.scope:
        start_session(request.session, actor.user_id, version)
        rotate_csrf_token(request)


@api.get("/me", summary="Who am I", response_model=MeOut)
def me(actor: ActorDep) -> MeOut:
    """The actor of this request: its user name and role grants (anonymous when not logged in)."""
    return MeOut.of(actor)


@api.get("/csrf", summary="CSRF token of this browser session", response_model=CsrfOut)
def csrf(request: Request) -> dict[str, str]:
    """The token JavaScript clients send as ``X-CSRF-Token`` with state-changing requests."""
    return {"csrf_token": csrf_token(request)}


@api.get("/roles", summary="Roles and their permissions", response_model=Page[RoleOut])
def roles(runtime: RuntimeDep,
          page: Annotated[PageRequest, paging(100, 1000)]) -> dict[str, Any]:
    """Every role with its label (in the current language) and the permissions it grants."""
    table = runtime.permissions
    return page.slice([{"role": r, "label": translate(label),
                        "permissions": sorted(table.get(r, ()))} for r, label in ROLES.items()])


@api.get("/users", summary="List users", response_model=Page[UserOut])
def users(session: SessionDep, actor: UserDep,
          page: Annotated[PageRequest, paging(200, 1000)]) -> dict[str, Any]:
    """Users holding a role inside the caller's areas, by user name (needs ``user.manage``)."""
    return page.slice(svc.list_users(session, actor),
                      items=lambda shown: [UserOut.of(u) for u in shown])


@api.post("/users", summary="Create a user", status_code=201, response_model=UserOut)
def create_user(body: UserIn, session: SessionDep, actor: UserDep) -> UserOut:
    """Create a user with role grants (needs ``user.manage`` over each grant's area)."""
    grants = [svc.GrantInput(g.role, g.area_code, g.department_code) for g in body.grants]
    user = svc.create_user(session, actor, body.username, grants, body.password,
                           body.display_name)
    return UserOut.of(user)


@api.put("/users/{username}/password", summary="Set a password", status_code=204)
def set_password(request: Request, username: UsernamePath, body: PasswordIn,
                 session: SessionDep, actor: UserDep) -> Response:
    """Set a user's password: one's own (``current_password`` required), or as a user manager.
    Every session of the user ends (a changing user's own browser session goes on)."""
    version = svc.set_password(session, actor, username, body.password, body.current_password)
    if username == actor.username:
        _keep_own_session(request, actor, version)
    return Response(status_code=204)


@api.post("/users/{username}/grants", summary="Grant a role", status_code=201,
          response_model=UserOut)
def grant(username: UsernamePath, body: GrantIn, session: SessionDep,
          actor: UserDep) -> UserOut:
    """Give a user a role within an area (and department)."""
    svc.grant_role(session, actor, username,
                   svc.GrantInput(body.role, body.area_code, body.department_code))
    return UserOut.of(svc.get_user(session, username))


@api.post("/users/{username}/grants/revoke", summary="Revoke a role", response_model=UserOut)
def revoke(username: UsernamePath, body: GrantIn, session: SessionDep,
           actor: UserDep) -> UserOut:
    """Take a role away from a user."""
    svc.revoke_role(session, actor, username,
                    svc.GrantInput(body.role, body.area_code, body.department_code))
    return UserOut.of(svc.get_user(session, username))


@api.post("/users/{username}/deactivate", summary="Deactivate a user",
          response_model=UserOut)
def deactivate(username: UsernamePath, session: SessionDep, actor: UserDep) -> UserOut:
    """Stop a user from logging in and using API keys."""
    svc.deactivate(session, actor, username)
    return UserOut.of(svc.get_user(session, username))


@api.get("/users/{username}/keys", summary="List a user's API keys",
         response_model=Page[ApiKeyOut])
def keys(username: UsernamePath, session: SessionDep, actor: UserDep,
         page: Annotated[PageRequest, paging(100, 1000)]) -> dict[str, Any]:
    """A user's API keys, oldest first (prefixes only; the secret is never stored)."""
    return page.slice(svc.list_api_keys(session, actor, username),
                      items=lambda shown: [ApiKeyOut.of(k) for k in shown])


@api.post("/users/{username}/keys", summary="Create an API key", status_code=201,
          response_model=NewApiKeyOut)
def create_key(username: UsernamePath, body: ApiKeyIn, session: SessionDep,
               actor: UserDep) -> NewApiKeyOut:
    """Create an API key for a department officer or a machine client; shown once."""
    return NewApiKeyOut(key=svc.create_api_key(session, actor, username, body.name))


@api.post("/keys/{key_id}/revoke", summary="Revoke an API key", status_code=204)
def revoke_key(key_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep,
               actor: UserDep) -> Response:
    """Revoke an API key at once."""
    svc.revoke_api_key(session, actor, key_id)
    return Response(status_code=204)


@api.get("/audit", summary="Audit entries, newest first", response_model=Page[AuditEntryOut])
def audit_tail(session: SessionDep, actor: UserDep,
               page: Annotated[PageRequest, paging(50, 1000)]) -> dict[str, Any]:
    """The audit log, newest first (needs ``audit.read``)."""
    after = page.after_as(int)
    entries = svc.audit_tail(session, actor, page.limit + 1, after[0] if after else None)
    return page.answer(entries, key=lambda e: (e.id,),
                       items=lambda shown: [AuditEntryOut.of(e) for e in shown])


@api.get("/audit/verify", summary="Verify the audit chain", response_model=AuditVerifyOut)
def audit_verify(session: SessionDep, actor: UserDep) -> AuditVerifyOut:
    """Walk the hash chain and name the first edited, deleted or inserted entry."""
    r = svc.audit_verify(session, actor)
    return AuditVerifyOut(ok=r.ok, checked=r.checked, first_bad_id=r.first_bad_id,
                          reason=r.reason)
