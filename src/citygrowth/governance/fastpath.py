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
* and a report the group-commit writer *accepts*: the same path as the route
  (:mod:`citygrowth.governance.intake_http`: caller from the same ``ActorCache``; category,
  position → grid cell, permission, idempotency key and credential checked in the writing
  transaction; the answer is sent once the case is committed), answered with the same JSON,
  status and headers.

Everything else goes, body and all, through the full stack to the FastAPI route — including a
report the writer refused (401, 403, 422) or could not write: the stack then answers it with
the route's own code, in the caller's language, as if the fast path did not exist (a refused
report writes nothing, so asking twice changes nothing). The route stays declared, hence
documented in the OpenAPI spec; with ``CITYGROWTH_CASES_FAST_PATH=false`` (the fast path is
declared through the ``citygrowth_fast_paths`` hook only when enabled) it serves every report
itself.
"""

from __future__ import annotations

from collections import Counter

from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from citygrowth.governance.intake_http import answer_bytes, submit
from citygrowth.governance.schemas import ReportIn
from citygrowth.runtime import Runtime
from citygrowth.web.body import read_body, replay

INTAKE_PATH = "/api/cases"
HEADER_KEY_MAX = 64  # the route's ``Header(alias="Idempotency-Key", max_length=64)``

#: How many reports the fast path served itself and how many it handed to the route.
stats: Counter[str] = Counter()


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

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (scope["type"] == "http" and scope["method"] == "POST"
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
