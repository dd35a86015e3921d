"""The OpenAPI description, made to tell the truth about what the server answers.

FastAPI describes every 422 as its own ``{"detail": [...]}``, declares no security and types
every answer as JSON. :func:`install_openapi` replaces ``app.openapi`` with a builder that
takes FastAPI's description and completes it from the routes themselves:

* **errors** — every operation declares the one error shape :class:`ErrorOut`
  (``{"ok": false, "error", "code", "errors": [...]}``) on the 4xx/5xx statuses it can answer:
  500 always; 422 when it takes parameters or a body; 401 and 403 when it reads the caller;
  404 when its path names something; 413 when it takes a body; 409 when it changes state for a
  caller. A page (an HTML answer) may answer an error as an HTML page too. An operation of
  another standard's protocol (``openapi_extra={"x-error-format": "ckan" | "open311" |
  "sdmx"}``) declares that standard's error format instead;
* **security** — the three ways to authenticate (``X-API-Key``, ``Authorization: Bearer``,
  the ``citygrowth_session`` cookie of a web login) as security schemes, applied to every
  operation that reads the caller: required when it needs a user (``UserDep``), optional
  (``{}`` among the alternatives) when it also serves the anonymous public (``ActorDep``);
* **media types** — routes declare their non-JSON answers with the ``responses`` helpers
  below (:data:`CSV`, :data:`XLSX`, :func:`media`…); pages answer ``text/html``.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Annotated, Any, Literal

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel, Field, WithJsonSchema

from citygrowth.web.deps import get_actor, get_user
from citygrowth.web.render import XLSX_TYPE

REF = "#/components/schemas/"
SESSION_COOKIE = "citygrowth_session"


class ProblemOut(BaseModel):
    """One thing wrong with the input: where it is (file, row, field) and why."""

    message: str = Field(description="What is wrong, in the caller's language.")
    file: str | None = Field(default=None, description="The file the problem is in.")
    row: int | None = Field(default=None, description="The row (1 = the first data row).")
    field: str | None = Field(default=None,
                              description="The field, column or parameter (dotted path).")
    value: str | int | float | bool | None = Field(default=None,
                                                   description="The value found there.")


class ErrorOut(BaseModel):
    """Every JSON error of citygrowth has this shape."""

    ok: Literal[False] = False
    error: str = Field(description="What went wrong, in the caller's language.")
    code: str = Field(description="A stable code to act on: invalid, not_found, forbidden, "
                                  "unauthenticated, bad_api_key, conflict, too_large, "
                                  "csrf, internal …")
    errors: list[ProblemOut] = Field(description="The problems of the input (may be empty).")


class CkanErrorOut(BaseModel):
    """CKAN's error envelope (the CKAN action API answers errors as CKAN does)."""

    help: str
    success: Literal[False] = False
    error: dict[str, Any] = Field(description='``{"__type": "Not Found Error", "message": '
                                              '"…"}`` and, for validation, field → messages.')


class Open311ErrorOut(BaseModel):
    """One error of GeoReport v2 (the JSON answer is a list of these)."""

    code: int | str
    description: str


ERROR_TEXT: dict[str, str] = {
    "400": "The request is malformed.",
    "401": "No valid credentials: log in, or send an API key (a key that is given but not "
           "valid is refused with code bad_api_key).",
    "403": "The caller may not do this here (permission, area or department), or a browser "
           "session sent no CSRF token.",
    "404": "What the request names does not exist or lies outside the caller's scope.",
    "406": "None of the accepted media types can be produced.",
    "409": "The request conflicts with the current state (a duplicate code, a step not "
           "allowed now).",
    "413": "The body or upload is larger than allowed.",
    "415": "The body is not sent in a media type the operation reads (see its request body).",
    "422": "The input is not valid; ``errors`` names each problem's field (and file, row).",
    "429": "Too many attempts; wait for Retry-After seconds.",
    "500": "Something went wrong on the server; it has been logged.",
    "503": "The store cannot be written just now (a full disk, a read-only or unreachable "
           "database); nothing was saved. Retry after Retry-After seconds.",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}

# --- the responses= helpers for non-JSON answers ---------------------------------------------

TEXT = {"type": "string"}
BINARY = {"type": "string", "format": "binary"}
CSV_TYPE = "text/csv"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PARQUET_TYPE = "application/vnd.apache.parquet"


Responses = dict[int | str, dict[str, Any]]


def form_body(fields: dict[str, dict[str, Any]], *, required: Iterable[str] = (),
              photos: int = 0) -> dict[str, Any]:
    """``openapi_extra=`` of an operation that reads its form itself (bounded before reading):
    a multipart or url-encoded form of ``fields`` (name → JSON schema) and up to ``photos``
    files in the field ``photo``. Such an operation also documents 415 (another media type)."""
    props = dict(fields)
    if photos:
        props["photo"] = {"type": "array", "maxItems": photos, "items": BINARY,
                          "description": f"Up to {photos} photos (JPEG, PNG or WebP)"}
    schema = {"type": "object", "properties": props, "required": list(required)}
    content = {"multipart/form-data": {"schema": schema}}
    if not photos:
        content["application/x-www-form-urlencoded"] = {"schema": schema}
    return {"requestBody": {"required": True, "content": content}, "x-reads-body": True}


def media(*types: str, description: str = "Successful Response", status: int = 200,
          schema: dict[str, Any] | None = None) -> Responses:
    """``responses=`` for an answer in ``types`` (text types as strings, others as bytes)."""
    def schema_of(t: str) -> dict[str, Any]:
        if schema is not None:
            return schema
        return TEXT if t.startswith("text/") or t.endswith(("+xml", "/xml", "yaml")) else BINARY
    return {status: {"description": description,
                     "content": {t: {"schema": schema_of(t)} for t in types}}}


CSV = media(CSV_TYPE, description="A CSV file (UTF-8 with a byte-order mark, header row in "
                                  "the reader's language).")
XLSX = media(XLSX_TYPE, description="An Excel workbook.")
PARQUET = media(PARQUET_TYPE, description="An Apache Parquet file.")
PNG = media("image/png", description="A PNG image.")
ZIP = media("application/zip", description="A zip archive.")
HTML = media("text/html", description="An HTML page.")
GEOJSON = media("application/geo+json", description="A GeoJSON FeatureCollection.",
                schema={"type": "object", "additionalProperties": True})
NOTHING_YET: Responses = {404: {"description": (
    "There is nothing to show yet (no index computed, no data for the indicator), or what "
    "the request names does not exist or lies outside the caller's scope.")}}
REDIRECT: Responses = {303: {"description": "Done; the browser is sent on to the page in Location.",
                  "headers": {"Location": {"schema": {"type": "string"}}}}}


# --- the builder ------------------------------------------------------------------------------

def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` answer the completed description (built once, then cached)."""
    original = app.openapi
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not done:
            done.append(complete(original(), app.routes))
        return done[0]

    app.openapi = openapi  # type: ignore[method-assign]


def complete(schema: dict[str, Any], routes: Iterable[Any]) -> dict[str, Any]:
    """``schema`` (FastAPI's) with errors, security and pages declared as they are."""
    schema = copy.deepcopy(schema)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for model in (ErrorOut, CkanErrorOut, Open311ErrorOut):
        defs = model.model_json_schema(ref_template=REF + "{model}")
        schemas.update(defs.pop("$defs", {}))
        schemas[model.__name__] = defs
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    components["securitySchemes"] = SECURITY_SCHEMES
    by_key = {(m.lower(), r.path_format): r for r in iter_route_contexts(list(routes))
              if isinstance(r.original_route, APIRoute) for m in r.methods or ()}
    named: list[tuple[dict[str, Any], str, str]] = []
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            route = by_key.get((method, path))
            if route is not None:
                _complete_operation(op, method, route)
                named.append((op, method, route.name or op.get("operationId", "")))
    _name_operations(named)
    return schema


def _name_operations(named: list[tuple[dict[str, Any], str, str]]) -> None:
    """Operation ids a generated client reads well: the route's name (``api_cases``), with its
    tag in front where two routes share a name, and the method where that is not enough."""
    def ident(text: str) -> str:
        return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower()

    counts = Counter(name for _, _, name in named)
    ids = [name if counts[name] == 1 else f"{ident((op.get('tags') or ['x'])[0])}_{name}"
           for op, _, name in named]
    again = Counter(ids)
    for (op, method, _), oid in zip(named, ids, strict=True):
        op["operationId"] = oid if again[oid] == 1 else f"{oid}_{method}"


SECURITY_SCHEMES: dict[str, Any] = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
               "description": "An API key (department officers and machine clients; "
                              "`citygrowth users api-key`)."},
    "Bearer": {"type": "http", "scheme": "bearer",
               "description": "The same API key as `Authorization: Bearer <key>`."},
    "Open311Key": {"type": "apiKey", "in": "query", "name": "api_key",
                   "description": "Open311 only: the API key as GeoReport v2 clients send it "
                                  "(a query or form field)."},
    "Session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                "description": "The signed session cookie of a web login (`POST /login`). "
                               "A state-changing request sent with it also needs the "
                               "`X-CSRF-Token` header (from `GET /api/auth/csrf`)."},
}
REQUIRED: list[dict[str, list[str]]] = [{"ApiKey": []}, {"Bearer": []}, {"Session": []}]


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def auth_of(route: RouteContext) -> Literal["required", "optional", "none"]:
    """Whether ``route`` needs a user, serves the public too, or never reads the caller."""
    calls = set(_calls(route.dependant)) if route.dependant is not None else set()
    if get_user in calls:
        return "required"
    return "optional" if get_actor in calls else "none"


def _is_page(route: RouteContext) -> bool:
    cls = route.response_class
    return isinstance(cls, type) and issubclass(cls, HTMLResponse)


def _error_statuses(op: dict[str, Any], method: str, auth: str, page: bool) -> list[str]:
    params = op.get("parameters", [])
    write = method in WRITE_METHODS
    statuses = ["500", "503"]
    if op.pop("x-reads-body", False):
        statuses.append("415")
    if page and (write or auth == "optional"):
        statuses.append("303")  # a form done, or a visitor sent to the login page
    if params or "requestBody" in op or write:
        statuses.append("422")
    if auth != "none":
        statuses += ["401", "403"]
    if write:
        statuses += ["409", "413"]
    if any(p.get("in") == "path" for p in params):
        statuses.append("404")
    return statuses


def _error_content(fmt: str | None, page: bool) -> dict[str, Any]:
    if fmt == "ckan":
        return {"application/json": {"schema": {"$ref": REF + "CkanErrorOut"}}}
    if fmt == "open311":
        return {"application/json": {"schema": {"type": "array", "items": {
                    "$ref": REF + "Open311ErrorOut"}}},
                "text/xml": {"schema": TEXT}}
    if fmt == "sdmx":
        return {"application/xml": {"schema": TEXT}}
    out: dict[str, Any] = {"application/json": {"schema": {"$ref": REF + "ErrorOut"}}}
    if page:
        out["text/html"] = {"schema": TEXT}
    return out


def _complete_operation(op: dict[str, Any], method: str, route: RouteContext) -> None:
    auth = auth_of(route)
    fmt = op.get("x-error-format")
    page = _is_page(route)
    responses: dict[str, Any] = op.setdefault("responses", {})
    declared = {str(s) for s in (route.responses or {})}
    if fmt is None:
        wanted = set(_error_statuses(op, method, auth, page))
    else:  # another standard's protocol: the statuses its route declares
        if "422" not in declared:
            responses.pop("422", None)
        wanted = {"500", "503"}
    wanted |= {s for s in responses if s[:1] in "45"}
    for status in sorted(s for s in wanted if s != "303"):
        entry = responses.setdefault(status, {})
        text = entry.get("description")
        entry["description"] = ERROR_TEXT.get(status, "Error") if text in (
            None, "", "Validation Error") else text
        # a crash and a storage failure are answered in the one shape
        own = fmt if status not in ("500", "503") else None
        content = entry.setdefault("content", {})
        shape = _error_content(own, page)
        if own is None or not content:
            content.clear()
            content.update(shape)
        for ctype, body in content.items():  # a route's own error type, given no schema
            if not body.get("schema"):
                body["schema"] = shape.get(ctype, {}).get("schema", TEXT)
    if "303" in wanted:
        responses.setdefault("303", dict(REDIRECT[303]))
    if "303" in responses:
        responses["303"].pop("content", None)  # a redirect has no body to speak of
    if auth != "none":
        op["security"] = REQUIRED + ([{}] if auth == "optional" else [])


# --- types of answers' fields -----------------------------------------------------------------

Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time",
                                           "description": "ISO 8601 with its UTC offset."})]
DateText = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]
Chart = Annotated[dict[str, Any], WithJsonSchema({
    "type": "object", "additionalProperties": True,
    "description": "An ECharts option, ready to hand to echarts.setOption()."})]


class OkOut(BaseModel):
    """A write that answers nothing but its success."""

    ok: Literal[True] = True
