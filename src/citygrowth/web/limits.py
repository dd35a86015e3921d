"""Bounded request bodies: every request has a body limit, known before a byte is read.

Routes fall into three classes:

* **photos** — a route taking case photos declares how many in its ``openapi_extra``
  (``{PHOTOS_KEY: n}``, see :func:`photo_route`): at most ``n`` × ``photo_max_mb`` MiB plus
  :data:`FORM_OVERHEAD` for the form's other fields (:func:`photo_body_limit`, the one formula
  the media module also reads bodies with);
* **uploads** — a route taking a file (a ``File()``/``UploadFile`` parameter, or a
  ``multipart/form-data`` request body declared in its ``openapi_extra``): at most
  ``max_upload_mb`` MiB;
* **everything else** (JSON, forms, unknown paths): at most ``max_body_kb`` KiB.

:class:`BodyLimitMiddleware` sits outside the session, CSRF and every other reader of bodies. A
request whose ``Content-Length`` passes its limit is answered 413 at once, without reading the
body; a body sent in chunks is counted as it is read and refused when it passes the limit. The
413 has the one error shape (or the error page), in the caller's language, and closes the
connection so the server stops receiving the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any

from fastapi import params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from citygrowth.web.body import BodyTooLarge
from citygrowth.web.errors import render_error

LIMIT_SCOPE_KEY = "citygrowth.body_limit"
#: ``openapi_extra`` key of a route taking photos: how many at most
PHOTOS_KEY = "x-citygrowth-photos"
#: room for a photo form's other fields and the multipart framing
FORM_OVERHEAD = 256 * 1024


def photo_body_limit(photo_max_bytes: int, photos: int) -> int:
    """The largest body of a request with up to ``photos`` photos of ``photo_max_bytes``."""
    return photos * photo_max_bytes + FORM_OVERHEAD


def photo_route(photos: int, request_body: dict[str, Any] | None = None) -> dict[str, Any]:
    """``openapi_extra`` of a route taking up to ``photos`` photos (and, optionally, the
    request body it reads itself, for the OpenAPI document)."""
    extra: dict[str, Any] = {PHOTOS_KEY: photos}
    if request_body is not None:
        extra["requestBody"] = request_body
    return extra


def photos_of(route: BaseRoute) -> int | None:
    """How many photos a route takes (:func:`photo_route`), or None."""
    if not isinstance(route, APIRoute):
        return None
    n = (route.openapi_extra or {}).get(PHOTOS_KEY)
    return n if isinstance(n, int) and n > 0 else None


def _body_params(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.body_params
    for sub in dependant.dependencies:
        yield from _body_params(sub)


def is_upload_route(route: BaseRoute) -> bool:
    """A route that takes a file: a ``File()`` parameter, or a multipart body declared in
    ``openapi_extra`` (routes that read the form themselves)."""
    if not isinstance(route, APIRoute):
        return False
    body = (route.openapi_extra or {}).get("requestBody") or {}
    if "multipart/form-data" in (body.get("content") or {}):
        return True
    return any(isinstance(p.field_info, params.File) for p in _body_params(route.dependant))


def upload_route_contexts(routes: Sequence[BaseRoute]) -> list[RouteContext]:
    """The upload and photo routes among ``routes`` (an app's, included routers walked), as
    FastAPI's route contexts (``path``, ``path_regex``, ``methods`` as served)."""
    return [c for c in iter_route_contexts(routes)
            if photos_of(c.original_route) or is_upload_route(c.original_route)]


class BodyLimitMiddleware:
    """Refuses request bodies over their route class's limit (see the module's docstring)."""

    def __init__(self, app: ASGIApp, max_body: int, max_upload: int,
                 max_photo: int = 10 * 2**20) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.max_photo = max_photo
        self._uploads: list[tuple[re.Pattern[str], frozenset[str], int]] | None = None

    def upload_routes(self, scope: Scope) -> list[tuple[re.Pattern[str], frozenset[str], int]]:
        """(path pattern, methods, body limit) of every photo and upload route."""
        if self._uploads is None:
            self._uploads = []
            for c in upload_route_contexts(scope["app"].routes):
                photos = photos_of(c.original_route)
                limit = photo_body_limit(self.max_photo, photos) if photos else self.max_upload
                self._uploads.append((c.path_regex, frozenset(c.methods or ()), limit))
        return self._uploads

    def limit_for(self, scope: Scope) -> int:
        path, method = get_route_path(scope), scope["method"]
        for regex, methods, limit in self.upload_routes(scope):
            if method in methods and regex.match(path):
                return limit
        return self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        scope[LIMIT_SCOPE_KEY] = limit
        if _content_length(scope) > limit:
            await _refuse(scope, receive, send, BodyTooLarge(limit))
            return
        size = 0
        started = False

        async def bounded() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watch(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded, watch)
        except BodyTooLarge as exc:
            if started:
                raise
            await _refuse(scope, receive, send, exc)


def _content_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


async def _refuse(scope: Scope, receive: Receive, send: Send, exc: BodyTooLarge) -> None:
    response = render_error(Request(scope, receive), exc.error())
    response.headers["Connection"] = "close"
    await response(scope, receive, send)
