"""URLs under a mount prefix: the app may be served at ``/`` or below a sub-path such as
``/citygrowth/`` (uvicorn ``--root-path``, the ``root_path`` setting, nginx in front).

The ASGI ``root_path`` is the prefix; since uvicorn 0.26 the request's ``path`` includes it.
Templates write ``{{ root }}/path``, scripts ``(document.documentElement.dataset.root || "")
+ "/path"`` and Python redirects :func:`site_path` (see HELPERS.md "URL convention").
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import HTTPConnection
from starlette.responses import RedirectResponse
from starlette.types import Scope


def root_of(scope: Scope) -> str:
    """The mount prefix of the application ("" at the root, else e.g. ``/citygrowth``)."""
    root: str = scope.get("app_root_path", scope.get("root_path", "")) or ""
    return root.rstrip("/")


def route_path(scope: Scope) -> str:
    """The request's path without the mount prefix (what the routes are declared with)."""
    path: str = scope.get("path", "")
    root = root_of(scope)
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root):] or "/"
    return path


def site_path(conn: HTTPConnection, path: str) -> str:
    """``path`` (a route path starting with ``/``) under the application's mount prefix."""
    return root_of(conn.scope) + path


def redirect(conn: HTTPConnection, path: str, status_code: int = 303) -> RedirectResponse:
    """A redirect to a route path of this application, under its mount prefix."""
    return RedirectResponse(site_path(conn, path), status_code=status_code)


def login_redirect(request: HTTPConnection) -> RedirectResponse:
    """To the login page, coming back to this page (query included) afterwards."""
    target = quote(route_path(request.scope)
                   + (f"?{request.url.query}" if request.url.query else ""))
    return redirect(request, f"/login?next={target}")
