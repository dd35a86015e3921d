"""Error handlers: every error becomes the one JSON shape, or an HTML page/partial for browsers.

A :class:`CityGrowthError` keeps its status and code; FastAPI's request validation becomes a 422
``invalid`` whose problems name each field; a Starlette ``HTTPException`` (404 for an unknown
path, 405 …) keeps its status; anything unexpected is logged and answered with a 500
``internal`` — never with a traceback.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from citygrowth.auth.refusals import RefusalLog
from citygrowth.errors import CityGrowthError, Problem, ValidationFailed
from citygrowth.i18n import get_locale
from citygrowth.inputs import input_message
from citygrowth.logging_setup import get_logger
from citygrowth.web.body import BodyTooLarge
from citygrowth.web.deps import session_actor
from citygrowth.web.urls import login_redirect, route_path

log = get_logger(__name__)

HTTP_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "too_large",
    415: "unsupported_media_type", 422: "invalid", 429: "too_many_requests",
}
HTTP_MESSAGES = {
    401: "Please log in first.",
    403: "You are not allowed to do this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    413: "The request is too large.",
}


def wants_html(request: Request) -> bool:
    """Browsers asking for a page get HTML; API clients (and /api, /open311 …) get JSON."""
    path = route_path(request.scope)
    if path.startswith(("/api", "/open311", "/sdmx", "/openapi")) or path.endswith(".json"):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept or request.headers.get("hx-request") == "true"


def _page_actor(request: Request) -> Any:
    """Who is logged in, for the header of an error page (also when no route ran)."""
    actor = getattr(request.state, "actor", None)
    if actor is not None or "session" not in request.scope or not request.session:
        return actor
    try:
        with request.app.state.runtime.sessionmaker() as session:
            return session_actor(request, session)
    except Exception:  # the store itself may be why we are rendering an error
        log.warning("could not load the actor for an error page", exc_info=True)
        return None


def _retry_after(error: CityGrowthError) -> dict[str, str] | None:
    """``Retry-After``: the seconds the error names (``retry_after``), else a minute for a 429
    or 503."""
    seconds = getattr(error, "retry_after", None)
    if seconds is None and error.status not in (429, 503):
        return None
    return {"Retry-After": str(max(1, int(seconds if seconds is not None else 60)))}


def render_error(request: Request, error: CityGrowthError) -> Response:
    locale = get_locale()
    body = error.to_dict(locale)
    headers = _retry_after(error)
    if wants_html(request):
        if error.status == 401 and request.method == "GET" \
                and not request.headers.get("hx-request"):
            return login_redirect(request)  # a page that needs a login: log in, come back
        templates = request.app.state.templates
        name = "errors/partial.html" if request.headers.get("hx-request") else "errors/page.html"
        page: Response = templates.TemplateResponse(
            request, name, {"error": body, "status": error.status, "actor": _page_actor(request)},
            status_code=error.status, headers=headers,
        )
        return page
    return JSONResponse(body, status_code=error.status, headers=headers)


async def note_refusal(request: Request, error: CityGrowthError) -> None:
    """A refused write (401, 403) goes to the audit log, within the log's budget
    (``auth/refusals.py``); the write runs off the event loop."""
    refusals: RefusalLog = request.app.state.refusals
    if not refusals.wanted(request.method, error.status):
        return
    client = request.client.host if request.client else "unknown"
    suppressed = refusals.admit(client)
    if suppressed is not None:
        await run_in_threadpool(refusals.write, getattr(request.state, "actor", None),
                                request.method, request.url.path, error.status, error.code,
                                client, suppressed)


def _validation_problems(exc: RequestValidationError | ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
        ctx = {k: _plain(v) for k, v in (err.get("ctx") or {}).items()}
        msgid = input_message(str(err.get("type", "")), ctx)
        problems.append(
            Problem(message=msgid, params=ctx, field=".".join(loc) or None) if msgid else
            Problem(message="{detail}", params={"detail": err.get("msg", "invalid")},
                    field=".".join(loc) or None)
        )
    return problems


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CityGrowthError)
    async def _cg(request: Request, exc: CityGrowthError) -> Response:
        await note_refusal(request, exc)
        return render_error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return render_error(request, ValidationFailed(problems=_validation_problems(exc)))

    @app.exception_handler(ValidationError)
    async def _model(request: Request, exc: ValidationError) -> Response:
        """A model a route builds from what the user sent (a form into an input schema)."""
        return render_error(request, ValidationFailed(problems=_validation_problems(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc, BodyTooLarge):
            too_large = render_error(request, exc.error())
            too_large.headers["Connection"] = "close"
            return too_large
        message = HTTP_MESSAGES.get(exc.status_code, "The request could not be carried out.")
        err = CityGrowthError(
            message, code=HTTP_CODES.get(exc.status_code, "error"), status=exc.status_code
        )
        await note_refusal(request, err)
        response = render_error(request, err)
        for k, v in (exc.headers or {}).items():
            response.headers[k] = v
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", path=request.url.path)
        err = CityGrowthError(
            "Something went wrong on our side; it has been logged.", code="internal", status=500
        )
        return render_error(request, err)


def error_json(error: CityGrowthError) -> dict[str, Any]:
    return error.to_dict(get_locale())
