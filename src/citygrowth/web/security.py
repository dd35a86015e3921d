"""Security headers on every answer, set in one middleware.

* ``Content-Security-Policy``: scripts from this site only — no inline script, no ``eval``
  (pages pass data in ``<script type="application/json">`` blocks and ``data-`` attributes);
  styles from this site and inline ``style`` attributes (ECharts draws with them); images from
  this site, ``data:`` and ``blob:`` (chart pictures, phone photos before upload); connections
  to this site (and ``data:``, which the patrol form turns into a photo upload); no plugins, no
  ``<base>`` elsewhere, forms post only here, and ``frame-ancestors 'none'``: no other site may
  frame a page (so no case-action form can be clicked through a disguise).
  The API documentation pages (``/docs``, ``/redoc``) are FastAPI's own and load Swagger UI and
  ReDoc from their CDN with an inline script: they get a policy that allows exactly that.
* ``X-Frame-Options: DENY`` (for browsers without CSP level 2), ``X-Content-Type-Options:
  nosniff``, ``Referrer-Policy: same-origin``, ``Cross-Origin-Opener-Policy: same-origin``,
  ``Permissions-Policy`` (position and camera for this site only, for the patrol and report
  forms);
* ``Strict-Transport-Security`` in production (``env=production``, ``hsts_seconds``);
* ``Cache-Control: no-store`` on every answer with personal data: any answer to a request that
  carries a credential (session cookie, API key) and every answer under the paths that show
  cases, reports, trackers, photos, users and the audit log — whoever asks.

A route that sets one of these headers itself keeps its own value — except ``Cache-Control``
on an answer with personal data, which is always ``no-store``.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self'; connect-src 'self' data:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net "
            "https://fonts.googleapis.com; "
            "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: "
            "https://fastapi.tiangolo.com https://cdn.redoc.ly; worker-src 'self' blob:; "
            "object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")
#: paths whose answers show personal data to whoever may see them (cases and their reporters,
#: trackers, photos, users, the audit log, Open311 requests)
PERSONAL_PATHS = ("/command", "/api/cases", "/cases", "/track", "/media", "/m/", "/my/",
                  "/report", "/help", "/api/help", "/api/auth", "/account", "/login", "/open311",
                  "/api/accountability/service-requests", "/api/accountability/evidence")
CREDENTIALS = (b"x-api-key", b"authorization")
SESSION_COOKIE = b"citygrowth_session="


def _has_credential(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name in CREDENTIALS or (name == b"cookie" and SESSION_COOKIE in value):
            return True
    return False


class SecurityHeadersMiddleware:
    """Adds the headers of the module's docstring to every HTTP answer."""

    def __init__(self, app: ASGIApp, hsts_seconds: int = 0) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_seconds}" if hsts_seconds > 0 else ""

    def headers_for(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        path: str = scope["path"][len(scope.get("root_path", "")):] \
            if scope["path"].startswith(scope.get("root_path", "")) else scope["path"]
        docs = path.startswith(DOCS_PATHS)
        out = [
            (b"content-security-policy", (DOCS_CSP if docs else CSP).encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"geolocation=(self), camera=(self), microphone=()"),
        ]
        if self.hsts:
            out.append((b"strict-transport-security", self.hsts.encode()))
        if not path.startswith("/static/") and (
                path.startswith(PERSONAL_PATHS) or _has_credential(scope)):
            out.append((b"cache-control", b"no-store"))
        return out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers_for(scope)

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                if (b"cache-control", b"no-store") in extra:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

