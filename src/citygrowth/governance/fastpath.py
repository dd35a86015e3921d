"""``POST /api/cases`` answered ahead of the whole web stack: the intake's fast path.

A burst of reports (the city platform pushing its backlog, a department's system catching up)
spends most of its time in the web stack — error and session middleware, language, CSRF,
FastAPI's routing, dependency solving, response classes — rather than in the report itself.
:class:`IntakeFastPath` wraps the app *outermost* (``create_app`` puts it around the middleware
stack) and serves the one case where none of that stack can change the answer:

* a machine client's request: ``POST /api/cases`` with an API key (``X-API-Key`` or
  ``Authorization: Bearer``), no cookie (so no session to refresh and no CSRF to check), no
  ``?lang=`` (no language cookie to set), ``application/json`` with a ``Content-Length`` of
  at most 64 KiB;
* a body that the route's own model (``schemas.ReportIn``) accepts, and an
  ``Idempotency-Key`` header of at most 64 characters;
* and a report the group-commit writer *accepts*: the same :func:`report` path as the route
  (caller from the same :class:`ActorCache`, category, position → grid cell, permission,
  idempotency key and credential checked in the writing transaction; the answer is sent once
  the case is committed), answered with the same JSON, status and headers.

Everything else goes, body and all, through the full stack to the FastAPI route — including a
report the writer refused (401, 403, 422) or could not write: the stack then answers it with
the route's own code, in the caller's language, as if the fast path did not exist (a refused
report writes nothing, so asking twice changes nothing). The route stays declared, hence
documented in the OpenAPI spec; with ``CITYGROWTH_CASES_FAST_PATH=false`` it serves every
report itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from json.encoder import encode_basestring
from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from citygrowth.auth.actor import Actor
from citygrowth.errors import Unauthenticated
from citygrowth.governance.intake import ReportInput
from citygrowth.governance.schemas import ReportIn
from citygrowth.governance.writer import Ack, writer_for
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

_FIELDS = tuple(name for name in ReportIn.model_fields if name != "idempotency_key")


async def submit(app: Any, key: str | None, uid: Any, body: ReportIn,
                 header_key: str | None) -> Ack:
    """One report through the group-commit writer, acknowledged once it is committed: what
    both the route and the fast path do after validation."""
    cache = actors_for(app)
    actor = await cache.get(key, uid)
    inp = ReportInput(**{name: getattr(body, name) for name in _FIELDS},
                      idempotency_key=header_key or body.idempotency_key)
    try:
        return await writer_for(app).submit_async(actor, inp)
    except Unauthenticated:  # the key was revoked or the user disabled since we remembered it
        cache.forget(key, uid)
        raise


def answer(ack: Ack) -> dict[str, Any]:
    return {"ok": True, "created": ack.created, "id": ack.id, "token": ack.token,
            "area_code": ack.area_code}


def answer_bytes(ack: Ack) -> bytes:
    """``answer(ack)`` exactly as the route's JSONResponse renders it (compact JSON, UTF-8),
    written out directly rather than through the encoder's dict machinery (``test_fastpath``
    compares the bytes with ``json.dumps``)."""
    return (f'{{"ok":true,"created":{"true" if ack.created else "false"},"id":{ack.id:d},'
            # encode_basestring: what json.dumps(value, ensure_ascii=False) makes of a str
            f'"token":{encode_basestring(ack.token)},'
            f'"area_code":{encode_basestring(ack.area_code)}}}').encode()


async def report(app: Any, key: str | None, uid: Any, body: ReportIn,
                 header_key: str | None) -> JSONResponse:
    """The route's answer to a validated report."""
    ack = await submit(app, key, uid, body, header_key)
    return JSONResponse(answer(ack), status_code=201 if ack.created else 200)


# --- the fast path ---------------------------------------------------------------------------

BODY_MAX = 64 * 1024


def parse(body: bytes, header_key: str | None) -> tuple[ReportIn, str | None] | None:
    """The validated report and its header key, or None when the route must answer (it then
    gives the error: the same checks as FastAPI's for ``api_report``)."""
    if not body or (header_key is not None and len(header_key) > HEADER_KEY_MAX):
        return None
    try:
        return ReportIn.model_validate_json(body), header_key
    except ValidationError:  # bad JSON or UTF-8, not an object, refused fields
        return None
    except Exception:  # e.g. absurdly nested JSON: the route answers
        return None


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


def _machine_request(scope: Scope) -> tuple[str, str | None] | None:
    """(API key, Idempotency-Key header) of a request the fast path may serve, else None."""
    if b"lang=" in scope.get("query_string", b""):
        return None
    key = header_key = ctype = None
    length = -1
    for name, value in scope["headers"]:
        if name == b"cookie":
            return None
        if name == b"x-api-key":
            key = value.decode("latin-1").strip()
        elif name == b"authorization" and key is None:
            auth = value.decode("latin-1")
            if auth[:7].lower() == "bearer ":
                key = auth[7:].strip() or None
        elif name == b"content-type":
            ctype = value
        elif name == b"content-length":
            length = int(value) if value.isdigit() else -1
        elif name == b"idempotency-key":
            header_key = value.decode("latin-1")
    if not key or not 0 < length <= BODY_MAX or ctype is None \
            or ctype.split(b";", 1)[0].strip().lower() != b"application/json":
        return None
    return key, header_key


class IntakeFastPath:
    """ASGI wrapper serving accepted machine reports of ``POST /api/cases`` (see the module's
    docstring); ``app`` is the full middleware stack, which answers everything else."""

    def __init__(self, app: ASGIApp, enabled: bool | None = None) -> None:
        from citygrowth.governance.config import case_settings

        self.app = app
        self.enabled = case_settings().fast_path if enabled is None else enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (self.enabled and scope["type"] == "http" and scope["method"] == "POST"
                and _route_path(scope) == INTAKE_PATH):
            await self.app(scope, receive, send)
            return
        machine = _machine_request(scope)
        if machine is None:
            stats["route"] += 1
            await self.app(scope, receive, send)
            return
        key, header_key = machine
        body, connected = await read_body(receive)
        parsed = parse(body, header_key) if connected else None
        ack = None
        if parsed is not None:
            try:
                ack = await submit(scope["app"], key, None, *parsed)
            except Exception:  # refused or failed: the stack answers (see the docstring)
                stats["refused"] += 1
        if ack is None:
            stats["route"] += 1
            await self.app(scope, replay(body, receive, connected), send)
            return
        stats["fast"] += 1
        payload = answer_bytes(ack)
        # what the route's JSONResponse sends, header for header
        await send({"type": "http.response.start", "status": 201 if ack.created else 200,
                    "headers": [(b"content-length", str(len(payload)).encode()),
                                (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload})
