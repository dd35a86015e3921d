"""The API documentation pages, served offline: Swagger UI at ``/docs`` and ReDoc at
``/redoc``, from assets vendored from their npm packages (``swagger-ui-dist``, ``redoc``) under
``web/static/vendor/`` — no CDN, no web font, no validator service (an intranet shows them as
the internet does). No inline script: the pages pass the OpenAPI URL in a data attribute."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from citygrowth.web.templating import render_page

router = APIRouter(include_in_schema=False)

#: the pages may load from their own origin only. ReDoc 2 draws an ``<img>`` from
#: cdn.redoc.ly in its sidebar footer (and hides it when it fails): ``img-src 'self'`` keeps
#: the browser from even asking. Both libraries set inline styles; ReDoc searches in a worker
#: made from a blob.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
       "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def _page(request: Request, template: str) -> Response:
    response = render_page(request, template, None)
    response.headers["Content-Security-Policy"] = CSP
    return response


@router.get("/docs")
def swagger_ui(request: Request) -> Response:
    return _page(request, "ops/swagger.html")


@router.get("/redoc")
def redoc(request: Request) -> Response:
    return _page(request, "ops/redoc.html")
