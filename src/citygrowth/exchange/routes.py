"""HTTP routes of the exchange: CKAN action API, DCAT, Data Package, per-indicator data.

The CKAN endpoints (``/api/3/action/…`` and ``/api/action/…``) keep CKAN's own response
envelope and error format, as CKAN clients expect; the rest use citygrowth's JSON shape.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import require, scope_prefixes
from citygrowth.errors import CityGrowthError, NotFound
from citygrowth.exchange import ckan
from citygrowth.exchange.ckan import Catalog, CkanError
from citygrowth.exchange.dcat import catalog_jsonld, dataset_jsonld
from citygrowth.exchange.frictionless import observations_csv
from citygrowth.exchange.schemas import JSONLD, CkanOkOut, CkanVersionOut, IndicatorObservationsPage
from citygrowth.exchange.sdmx.routes import router as sdmx
from citygrowth.exchange.service import READ, export_datapackage, last_loaded, read_observations
from citygrowth.exchange.sources import publication
from citygrowth.observatory.rows import observation, page_key
from citygrowth.observatory.store import ObservationStore
from citygrowth.runtime import Runtime
from citygrowth.web.deps import ActorDep, RuntimeDep, SessionDep
from citygrowth.web.openapi import CSV, ZIP
from citygrowth.web.paging import PageRequest, paging

CKAN_ERROR_TYPES = {404: "Not Found Error", 401: "Authorization Error",
                    403: "Authorization Error", 409: "Validation Error",
                    422: "Validation Error"}


def _help(request: Request, action: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/api/3/action/help_show?name={action}"


def ckan_error_body(request: Request, err: CkanError) -> JSONResponse:
    action = request.url.path.rsplit("/", 1)[-1]
    error: dict[str, Any] = {"__type": err.kind}
    if err.message:
        error["message"] = err.message
    error.update(err.fields)
    return JSONResponse({"help": _help(request, action), "success": False, "error": error},
                        status_code=err.status)


def _as_ckan(exc: Exception) -> CkanError | None:
    if isinstance(exc, CkanError):
        return exc
    if isinstance(exc, RequestValidationError):
        fields: dict[str, list[str]] = {}
        for e in exc.errors():
            name = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "body"))
            fields.setdefault(name or "request", []).append(str(e.get("msg", "invalid")))
        return CkanError("Validation Error", fields=fields)
    if isinstance(exc, CityGrowthError) and exc.status < 500:
        kind = CKAN_ERROR_TYPES.get(exc.status, "Bad Request")
        return CkanError(kind, exc.render_message("en"))
    return None


class CkanRoute(APIRoute):
    """Answers every error of a CKAN action in CKAN's envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except Exception as exc:
                err = _as_ckan(exc)
                if err is None:
                    raise
                return ckan_error_body(request, err)

        return handler


ckan_router = APIRouter(tags=["exchange: CKAN"], route_class=CkanRoute)
router = APIRouter(tags=["exchange"])


def catalog_for(request: Request, session: Session, runtime: Runtime) -> Catalog:
    pub = publication(session, runtime, with_areas=False)
    return Catalog(pub, str(request.base_url), last_loaded(runtime.settings), pub.created)


async def _params(request: Request) -> dict[str, Any]:
    """Action parameters from the query string, and for POST from a JSON or form body."""
    params: dict[str, Any] = dict(request.query_params)
    if request.method != "POST":
        return params
    body = await request.body()
    if not body.strip():
        return params
    ctype = request.headers.get("content-type", "")
    if "form" in ctype:
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise CkanError("Bad Request", "Bad request - JSON Error: not valid JSON") from None
    if not isinstance(data, dict):
        raise CkanError("Bad Request", "Bad request - JSON Error: not a JSON object")
    params.update(data)
    return params


# CKAN actions answer errors in CKAN's own envelope (see the fuzz test's one-shape check).
CKAN_FORMAT = {"x-error-format": "ckan"}
ACTION_SCHEMA = {"type": "object", "additionalProperties": True, "properties": {
    "id": {"type": "string"}, "q": {"type": "string"}, "fq": {"type": "string"},
    "rows": {"type": "integer"}, "start": {"type": "integer"}, "sort": {"type": "string"},
    "limit": {"type": "integer"}, "offset": {"type": "integer"}}}
ACTION_BODY = {**CKAN_FORMAT, "requestBody": {
    "required": False, "content": {"application/json": {"schema": ACTION_SCHEMA}}}}


def _register_action(name: str) -> None:
    fn = ckan.ACTIONS[name]

    async def action(request: Request, session: SessionDep,
                     runtime: RuntimeDep) -> JSONResponse:
        params = await _params(request)
        cat = catalog_for(request, session, runtime)
        return JSONResponse({"help": _help(request, name), "success": True,
                             "result": fn(cat, params)})

    for prefix in ("/api/3/action", "/api/action"):
        for method in ("GET", "POST"):
            ckan_router.add_api_route(
                f"{prefix}/{name}", action, methods=[method], response_class=JSONResponse,
                response_model=CkanOkOut,
                responses={404: {"description": "CKAN: Not Found Error"},
                           409: {"description": "CKAN: Validation Error"},
                           400: {"description": "CKAN: Bad Request"}},
                summary=f"CKAN {name}", name=f"ckan_{name}_{method.lower()}_{prefix.count('/')}",
                openapi_extra=ACTION_BODY if method == "POST" else CKAN_FORMAT,
            )


for _name in ckan.ACTIONS:
    _register_action(_name)


@ckan_router.get("/api/3", summary="CKAN API version", openapi_extra=CKAN_FORMAT,
                 response_model=CkanVersionOut)
def api_version() -> dict[str, int]:
    return {"version": 3}


@router.get("/catalog.jsonld", summary="DCAT catalog (JSON-LD)", response_class=Response,
            responses=JSONLD)
def dcat_catalog(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    body = catalog_jsonld(catalog_for(request, session, runtime))
    return JSONResponse(body, media_type="application/ld+json")


@router.get("/dataset/{name}.jsonld", summary="DCAT dataset (JSON-LD)",
            response_class=Response, responses=JSONLD)
def dcat_dataset(request: Request, session: SessionDep, runtime: RuntimeDep,
                 name: str) -> Response:
    cat = catalog_for(request, session, runtime)
    try:
        pkg = cat.find(name)
    except CkanError:
        raise NotFound("No dataset '{code}'.", code=name) from None
    return JSONResponse(dataset_jsonld(cat, pkg), media_type="application/ld+json")


IndicatorQ = Annotated[list[str] | None, Query(
    alias="indicator", description="Only these indicators (repeat the parameter).")]


@router.get("/api/exchange/datapackage.zip", summary="Frictionless Data Package (zip)",
            response_class=Response, responses=ZIP)
def datapackage(session: SessionDep, runtime: RuntimeDep, actor: ActorDep,
                indicator: IndicatorQ = None) -> Response:
    body = export_datapackage(session, runtime, actor, indicator)
    return Response(body, media_type="application/zip", headers={
        "Content-Disposition": 'attachment; filename="datapackage.zip"'})


def _indicator_frame(session: Session, runtime: Runtime, actor: Actor, code: str) -> Any:
    pub = publication(session, runtime, with_areas=False)
    if pub.indicator(code) is None:
        raise NotFound("No indicator '{code}' in this framework.", code=code)
    return read_observations(session, runtime, actor, indicators=[code])


@router.get("/api/exchange/indicators/{code}.json", summary="Observations of one indicator",
            response_model=IndicatorObservationsPage)
def indicator_json(session: SessionDep, runtime: RuntimeDep, actor: ActorDep, code: str,
                   page: Annotated[PageRequest, paging(1000, 10000)]) -> dict[str, Any]:
    """The current values, by area and period, a page at a time."""
    require(actor, READ, None)
    pub = publication(session, runtime, with_areas=False)
    if pub.indicator(code) is None:
        raise NotFound("No indicator '{code}' in this framework.", code=code)
    after = page.after_as(str, str, dt.date, str)
    rows = ObservationStore(runtime.settings).page(
        [code], prefixes=scope_prefixes(actor, READ), after=after, limit=page.limit + 1)
    return page.answer(rows, key=page_key, items=lambda shown: [
        {k: v for k, v in observation(r).items() if k != "load_id"} for r in shown],
        indicator=code)


@router.get("/api/exchange/indicators/{code}.csv", summary="Observations of one indicator (CSV)",
            response_class=Response, responses=CSV)
def indicator_csv(session: SessionDep, runtime: RuntimeDep, actor: ActorDep,
                  code: str) -> Response:
    frame = _indicator_frame(session, runtime, actor, code)
    return Response(observations_csv(frame), media_type="text/csv; charset=utf-8")


def routers() -> list[APIRouter]:
    return [sdmx, ckan_router, router]
