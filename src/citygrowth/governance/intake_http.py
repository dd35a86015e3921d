"""A report over HTTP: what ``POST /api/cases`` does once the body is validated — find the
caller (:class:`ActorCache`), hand the report to the group-commit writer, answer once the
case is committed. The FastAPI route (``routes.api_report``) and the ASGI fast path
(``fastpath.IntakeFastPath``) both call :func:`submit` and :func:`answer_bytes`: one path,
two doors.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from json.encoder import encode_basestring

from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from citygrowth.auth.actor import Actor
from citygrowth.auth.identity import actor_for_api_key, load_actor
from citygrowth.auth.permissions import PermissionTable
from citygrowth.auth.sessions import SessionUser, session_user
from citygrowth.errors import Unauthenticated
from citygrowth.governance.intake import ReportInput
from citygrowth.governance.schemas import ReportIn
from citygrowth.governance.writer import Ack, writer_for
from citygrowth.web.deps import api_key_from_headers, runtime_of

ACTOR_TTL = 10.0


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

    def __init__(self, factory: sessionmaker[Session], permissions: PermissionTable,
                 ttl: float = ACTOR_TTL, size: int = 10000) -> None:
        self.factory, self.permissions, self.ttl, self.size = factory, permissions, ttl, size
        self.entries: dict[str, tuple[float, Actor]] = {}
        self.pending: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = {}

    @staticmethod
    def cache_key(key: str | None, uid: object) -> str:
        return ("k:" + hashlib.sha256(key.encode()).hexdigest()) if key else f"u:{uid}"

    def _lookup(self, key: str | None, uid: SessionUser | None) -> Actor | None:
        with self.factory() as s:  # read only: the writer records the key's last use
            actor = (actor_for_api_key(s, key, self.permissions) if key
                     else load_actor(s, uid.user_id, self.permissions, uid.version) if uid
                     else None)
            s.rollback()
        return actor

    async def get(self, key: str | None, uid: object) -> Actor:
        """The caller, as ``web.deps.get_actor`` finds it; 401 when there is none. Requests that
        arrive while the same caller is being looked up wait for that one lookup."""
        if not key and not uid:
            raise Unauthenticated()
        if not key:  # a web session: checked each time, so that a logout ends it at once
            found = await run_in_threadpool(
                self._lookup, None, uid if isinstance(uid, SessionUser) else None)
            if found is None:
                raise Unauthenticated()
            return found
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
            actor = await run_in_threadpool(self._lookup, key, None)
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

    def forget(self, key: str | None, uid: object) -> None:
        self.entries.pop(self.cache_key(key, uid), None)


def actors_for(app: Starlette) -> ActorCache:
    """The app's actor cache (one per app: two apps never share a remembered actor)."""
    cache: ActorCache | None = getattr(app.state, "intake_actors", None)
    if cache is None:
        runtime = app.state.runtime
        cache = ActorCache(runtime.sessionmaker, runtime.permissions)
        app.state.intake_actors = cache
    return cache


def credentials(request: Request) -> tuple[str | None, SessionUser | None]:
    """(API key, session user) of a request, as ``web.deps`` reads them."""
    absolute = runtime_of(request).settings.session_absolute_seconds
    uid = session_user(request.session, absolute) if "session" in request.scope else None
    return api_key_from_headers(request), uid


# --- the report ------------------------------------------------------------------------------

_FIELDS = tuple(name for name in ReportIn.model_fields if name != "idempotency_key")


async def submit(app: Starlette, key: str | None, uid: object, body: ReportIn,
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


def answer_bytes(ack: Ack) -> bytes:
    """The answer to an accepted report, ``{"ok": true, "created", "id", "token",
    "area_code"}`` as compact UTF-8 JSON, written out directly rather than through the
    encoder's dict machinery (``test_fastpath`` compares the bytes with ``json.dumps``)."""
    return (f'{{"ok":true,"created":{"true" if ack.created else "false"},"id":{ack.id:d},'
            # encode_basestring: what json.dumps(value, ensure_ascii=False) makes of a str
            f'"token":{encode_basestring(ack.token)},'
            f'"area_code":{encode_basestring(ack.area_code)}}}').encode()


async def report(app: Starlette, key: str | None, uid: object, body: ReportIn,
                 header_key: str | None) -> Response:
    """The route's answer to a validated report."""
    ack = await submit(app, key, uid, body, header_key)
    return Response(answer_bytes(ack), status_code=201 if ack.created else 200,
                    media_type="application/json")
