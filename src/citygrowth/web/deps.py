"""Dependencies shared by every route: ``RuntimeDep`` (the app's :class:`Runtime`, whence
everything else), ``SessionDep``, ``ActorDep``, ``UserDep``, ``SettingsDep``, ``BusDep``.

The actor comes from an API key (``X-API-Key`` header, ``Authorization: Bearer``, or — for
Open311 clients — an ``api_key`` form/query field read by those routes themselves) or from the
signed session cookie of a web login; otherwise it is the anonymous actor.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from citygrowth.auth.actor import ANONYMOUS, Actor
from citygrowth.auth.identity import actor_for_api_key, load_actor
from citygrowth.auth.sessions import USER, session_user
from citygrowth.db import transaction
from citygrowth.errors import Unauthenticated
from citygrowth.events import EventBus
from citygrowth.runtime import Runtime
from citygrowth.settings import Settings


def runtime_of(request: Request) -> Runtime:
    """The runtime of the app serving ``request``."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_db(request: Request) -> Iterator[Session]:
    """A session per request; committed when the handler returns, rolled back on error."""
    with transaction(runtime_of(request).sessionmaker) as session:
        yield session


def get_settings(request: Request) -> Settings:
    return runtime_of(request).settings


def get_bus(request: Request) -> EventBus:
    return runtime_of(request).bus


def api_key_from_headers(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return None


def get_actor(request: Request, session: Annotated[Session, Depends(get_db)]) -> Actor:
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    actor: Actor | None = None
    key = api_key_from_headers(request)
    permissions = runtime_of(request).permissions
    if key:
        actor = actor_for_api_key(session, key, permissions)
        if actor is None:
            raise Unauthenticated("The API key is not valid.", code="bad_api_key")
    elif "session" in request.scope and request.session:
        actor = session_actor(request, session)
    actor = actor or ANONYMOUS
    request.state.actor = actor
    return actor


def session_actor(request: Request, session: Session) -> Actor | None:
    """The user of the request's web session, if it is still valid (``auth.sessions``); an
    ended or expired session is cleared."""
    runtime = runtime_of(request)
    found = session_user(request.session, runtime.settings.session_absolute_seconds)
    actor = load_actor(session, found.user_id, runtime.permissions, found.version) \
        if found else None
    if actor is None and USER in request.session:
        request.session.clear()
    return actor


def get_user(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
    """Like ``get_actor`` but refuses the anonymous actor with 401."""
    if actor.is_anonymous:
        raise Unauthenticated()
    return actor


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
SessionDep = Annotated[Session, Depends(get_db)]
ActorDep = Annotated[Actor, Depends(get_actor)]
UserDep = Annotated[Actor, Depends(get_user)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
BusDep = Annotated[EventBus, Depends(get_bus)]
