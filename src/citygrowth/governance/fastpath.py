"""``POST /api/cases`` served ahead of FastAPI's routing: the intake's fast path.

A burst of reports (a city platform pushing its backlog, grid workers coming back into signal)
spends most of its time in FastAPI's route matching, dependency solving and exception
wrappers rather than in the report itself. :class:`IntakeFastPath` is an ASGI middleware that
sits *inside* the session, locale and CSRF middleware (so a browser session, its CSRF token, the
caller's language and the cookies are handled by the very same code as for every route) and
*outside* FastAPI's router. For ``POST /api/cases`` it does what the route does and nothing else:

* the body: ``application/json`` parsed and validated with the route's own model
  (``schemas.ReportIn``) and the ``Idempotency-Key`` header (at most 64 characters);
* the caller (API key or session) through the same :class:`ActorCache` as the route, then the
  same :func:`report` coroutine: the group-commit writer checks category, position → grid cell,
  permission, idempotency key and the credential, commits, and only then is the 201/200 sent;
* an error the report itself causes (401, 403, 422 category/position…) is rendered by the app's
  own ``render_error``, exactly as the exception handlers render it for the route.

Anything unusual — another content type, an empty body, JSON that does not parse, a body or
header the model refuses — is handed, body and all, to the FastAPI route, so every error a
client can provoke is answered by the code that answered it before (422 naming the field, in the
caller's language). The route stays declared, hence documented in the OpenAPI spec; with
``CITYGROWTH_CASES_FAST_PATH=false`` it serves every report itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import Counter
from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from citygrowth.auth.actor import Actor
from citygrowth.errors import CityGrowthError, Unauthenticated
from citygrowth.governance.intake import ReportInput
from citygrowth.governance.schemas import ReportIn
from citygrowth.web.body import read_body, replay

INTAKE_PATH = "/api/cases"
ACTOR_TTL = 10.0
HEADER_KEY_MAX = 64  # the route's ``Header(alias="Idempotency-Key", max_length=64)``

#: How many reports the fast path served itself and how many it handed to the route.
stats: Counter[str] = Counter()


# --- the caller ------------------------------------------------------------------------------

class ActorCache:
    """The actor of an API key or a session user, remembered for ``ttl`` seconds per app so that
    a burst of reports does not look the key up once per report. The lookup only reads (a write
    transaction beside the writer's would wait for SQLite's lock); the writer records the key's
    ``last_used_at`` in the transaction that stores the reports.

    Remembering is safe for revocation: the intake writer re-checks every reporter's key (not
    revoked) and user (active) in the transaction that writes the case, and a refusal there
    makes the intake :meth:`forget` the entry. What the cache may still hold for up to ``ttl``
    seconds is a changed set of grants (a role added or taken away)."""

    def __init__(self, factory: Any, ttl: float = ACTOR_TTL, size: int = 10000) -> None:
        self.factory, self.ttl, self.size = factory, ttl, size
        self.entries: dict[str, tuple[float, Actor]] = {}
        self.pending: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = {}

    @staticmethod
    def cache_key(key: str | None, uid: Any) -> str:
        return ("k:" + hashlib.sha256(key.encode()).hexdigest()) if key else f"u:{uid}"

    def _lookup(self, key: str | None, uid: int | None) -> Actor | None:
        from citygrowth.auth.identity import actor_for_api_key, load_actor

        with self.factory() as s:  # read only: the writer records the key's last use
            actor = actor_for_api_key(s, key) if key else load_actor(s, uid) if uid else None
            s.rollback()
        return actor

    async def get(self, key: str | None, uid: Any) -> Actor:
        """The caller, as ``web.deps.get_actor`` finds it; 401 when there is none. Requests that
        arrive while the same caller is being looked up wait for that one lookup."""
        if not key and not uid:
            raise Unauthenticated()
        ck = self.cache_key(key, uid)
        hit = self.entries.get(ck)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        loop = asyncio.get_running_loop()
        pending = self.pending.get(ck)
        if pending is not None and pending[0] is loop:
            await asyncio.wait([pending[1]])
            hit = self.entries.get(ck)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
        done: asyncio.Future[None] = loop.create_future()
        self.pending[ck] = (loop, done)
        try:
            actor = await run_in_threadpool(self._lookup, key,
                                            int(uid) if uid and not key else None)
        finally:
            if self.pending.get(ck) == (loop, done):
                del self.pending[ck]
            done.set_result(None)
        if actor is None:
            self.entries.pop(ck, None)
            raise Unauthenticated("The API key is not valid.", code="bad_api_key") if key \
                else Unauthenticated()
        if len(self.entries) >= self.size:
            self.entries.clear()
        self.entries[ck] = (time.monotonic() + self.ttl, actor)
        return actor

    def forget(self, key: str | None, uid: Any) -> None:
        self.entries.pop(self.cache_key(key, uid), None)


def actors_for(app: Any) -> ActorCache:
    """The app's actor cache (one per app: two apps never share a remembered actor)."""
    cache: ActorCache | None = getattr(app.state, "intake_actors", None)
    if cache is None:
        cache = ActorCache(app.state.sessionmaker)
        app.state.intake_actors = cache
    return cache


def credentials(request: Request) -> tuple[str | None, Any]:
    """(API key, session user id) of a request, as ``web.deps`` reads them."""
    from citygrowth.web.deps import api_key_from_headers

    uid = request.session.get("user_id") if "session" in request.scope else None
    return api_key_from_headers(request), uid


# --- the report ------------------------------------------------------------------------------

async def report(app: Any, key: str | None, uid: Any, body: ReportIn,
                 header_key: str | None) -> JSONResponse:
    """One report through the group-commit writer, answered once it is committed: what both
    the route and the fast path do after validation."""
    from citygrowth.governance.writer import writer_for

    cache = actors_for(app)
    actor = await cache.get(key, uid)
    inp = ReportInput(**body.model_dump(exclude={"idempotency_key"}),
                      idempotency_key=header_key or body.idempotency_key)
    try:
        ack = await writer_for(app).submit_async(actor, inp)
    except Unauthenticated:  # the key was revoked or the user disabled since we remembered it
        cache.forget(key, uid)
        raise
    return JSONResponse({"ok": True, "created": ack.created, "id": ack.id, "token": ack.token,
                         "area_code": ack.area_code}, status_code=201 if ack.created else 200)


# --- the middleware --------------------------------------------------------------------------

def parse(request: Request, body: bytes) -> tuple[ReportIn, str | None] | None:
    """The validated report and its header key, or None when the route must answer (it then
    gives the error: the same checks, in the same order, as FastAPI's for ``api_report``)."""
    ctype = request.headers.get("content-type", "")
    if ctype.split(";", 1)[0].strip().lower() != "application/json" or not body:
        return None
    header_key = request.headers.get("idempotency-key")
    if header_key is not None and len(header_key) > HEADER_KEY_MAX:
        return None
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            return None
        return ReportIn.model_validate(data), header_key
    except (ValueError, ValidationError):  # JSONDecodeError, bad UTF-8, refused fields
        return None
    except Exception:  # e.g. RecursionError of absurdly nested JSON: the route answers 400
        return None


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


class IntakeFastPath:
    """ASGI middleware serving ``POST /api/cases`` (see the module's docstring)."""

    def __init__(self, app: ASGIApp, enabled: bool | None = None) -> None:
        from citygrowth.governance.config import case_settings

        self.app = app
        self.enabled = case_settings().fast_path if enabled is None else enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (self.enabled and scope["type"] == "http" and scope["method"] == "POST"
                and _route_path(scope) == INTAKE_PATH):
            await self.app(scope, receive, send)
            return
        body, connected = await read_body(receive)
        request = Request(scope, replay(body, receive, connected))
        parsed = parse(request, body)
        if parsed is None:
            stats["route"] += 1
            await self.app(scope, request.receive, send)
            return
        stats["fast"] += 1
        key, uid = credentials(request)
        response: Response
        try:
            response = await report(scope["app"], key, uid, *parsed)
        except CityGrowthError as exc:
            from citygrowth.web.errors import render_error

            response = render_error(request, exc)
        await response(scope, request.receive, send)
