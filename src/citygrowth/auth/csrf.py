"""CSRF protection for browser sessions.

Every page that shows a form puts ``csrf_token(request)`` in it (a hidden ``csrf_token`` field);
``base.html`` also sends it as the ``X-CSRF-Token`` header on every htmx request.
:class:`CSRFMiddleware` (installed by ``create_app``, so no route can forget it) refuses a
state-changing request (POST, PUT, PATCH, DELETE) that carries a session cookie but not the
session's token, with a 403 ``csrf`` error in the one error shape:

* forms send the token as the ``csrf_token`` field (url-encoded or multipart);
* JavaScript and htmx send the ``X-CSRF-Token`` header (JSON calls must);
* requests authenticated with an API key (``X-API-Key`` or ``Authorization: Bearer``) carry no
  ambient credential and are exempt, as are requests without a session at all.

The login form checks the token itself (see ``auth.routes``), so a login cannot be forged either.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from citygrowth.errors import Forbidden
from citygrowth.web.body import read_body, read_head, replay
from citygrowth.web.errors import note_refusal, render_error

SESSION_KEY = "csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_MULTIPART_FIELD = re.compile(rb'name="csrf_token"\r\n(?:[^\r\n]+\r\n)*\r\n([^\r\n]{0,200})\r\n')
#: how much of a multipart body is searched for the token (the field comes first)
MULTIPART_SCAN = 64 * 1024


class CsrfFailed(Forbidden):
    code = "csrf"
    message = "The form has expired or did not come from this site. Reload the page and try again."


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use. Put it in every form and page context."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def rotate_csrf_token(request: Request) -> str:
    """A fresh token (after login or logout)."""
    request.session.pop(SESSION_KEY, None)
    return csrf_token(request)


def token_matches(session: dict[str, object], presented: str | None) -> bool:
    expected = session.get(SESSION_KEY)
    if not isinstance(expected, str) or not expected or not presented:
        return False
    return secrets.compare_digest(expected.encode(), presented.encode())


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _needs_check(scope: Scope, headers: dict[str, str]) -> bool:
    if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
        return False
    if headers.get("x-api-key") or headers.get("authorization", "").lower().startswith("bearer "):
        return False
    session = scope.get("session")
    return bool(session)


def _has_token(head: bytes) -> bool:
    return _MULTIPART_FIELD.search(head) is not None


def token_from_body(content_type: str, body: bytes) -> str | None:
    """The ``csrf_token`` field of a url-encoded or multipart form body, if any."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(FIELD)
        return values[0] if values else None
    if content_type.startswith("multipart/form-data"):
        m = _MULTIPART_FIELD.search(body)
        return m.group(1).decode("latin-1") if m else None
    return None


class CSRFMiddleware:
    """Refuses state-changing requests of a browser session that lack the session's token.

    Must sit inside ``SessionMiddleware`` (it reads ``scope["session"]``).
    """

    def __init__(self, app: ASGIApp, max_form: int = 2**20) -> None:
        self.app = app
        self.max_form = max_form

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope) if scope["type"] == "http" else {}
        if not _needs_check(scope, headers):
            await self.app(scope, receive, send)
            return
        session = scope["session"]
        if token_matches(session, headers.get(HEADER)):
            await self.app(scope, receive, send)
            return
        content_type = headers.get("content-type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            body, connected = await read_body(receive, self.max_form)
            presented, receive = token_from_body(content_type, body), replay(body, receive,
                                                                               connected)
        elif content_type.startswith("multipart/form-data"):
            # the token field comes first in our forms: read only up to it, stream the rest
            head, more, connected = await read_head(receive, MULTIPART_SCAN, _has_token)
            presented = token_from_body(content_type, head[:MULTIPART_SCAN])
            receive = replay(head, receive, connected, more)
        else:
            presented = None
        if not token_matches(session, presented):
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        request, error = Request(scope, receive), CsrfFailed()
        await note_refusal(request, error)
        await render_error(request, error)(scope, receive, send)


