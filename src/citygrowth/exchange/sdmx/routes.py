"""SDMX REST 2.1 endpoints under ``/sdmx``: structures (public) and data (``exchange.read``).

Errors here are SDMX error messages (``<mes:Error>``), not citygrowth's JSON shape, as the
SDMX standard requires; a custom route class turns every error raised below into one.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor
from citygrowth.errors import CityGrowthError, Forbidden, NotFound, Unauthenticated
from citygrowth.exchange.sdmx.csv_data import write_sdmx_csv
from citygrowth.exchange.sdmx.data import to_sdmx_frame
from citygrowth.exchange.sdmx.errors import (
    ERROR_MEDIA_TYPE,
    SdmxError,
    no_results,
    syntax_error,
    write_error,
)
from citygrowth.exchange.sdmx.model import StructureSet
from citygrowth.exchange.sdmx.query import (
    GENERIC,
    REFERENCES,
    SDMX_CSV,
    STRUCTURE,
    STRUCTURE_DETAILS,
    STRUCTURE_SPECIFIC,
    DataQuery,
    check_provider,
    filter_rows,
    negotiate,
    parse_data_query,
    parse_flow,
)
from citygrowth.exchange.sdmx.xml_data import write_generic, write_structure_specific
from citygrowth.exchange.sdmx.xml_structure import select, write_structure
from citygrowth.exchange.service import read_observations
from citygrowth.exchange.sources import publication
from citygrowth.i18n import N_
from citygrowth.runtime import Runtime
from citygrowth.web.deps import ActorDep, RuntimeDep, SessionDep

RESOURCES = ("dataflow", "datastructure", "codelist", "conceptscheme")
# SDMX endpoints answer errors as SDMX-ML error messages (see the fuzz test's one-shape check).
SDMX_FORMAT = {"x-error-format": "sdmx"}
MAX_OBSERVATIONS = 2_000_000


def _as_sdmx(exc: Exception) -> SdmxError | None:
    if isinstance(exc, SdmxError):
        return exc
    if isinstance(exc, RequestValidationError):
        err = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path"))
        return syntax_error(N_("Invalid parameter {param}: {detail}"), param=where,
                            detail=err.get("msg", ""))
    if isinstance(exc, Unauthenticated):
        return SdmxError(110, exc.message, **exc.params)
    if isinstance(exc, Forbidden):
        return SdmxError(110, exc.message, status=403, **exc.params)
    if isinstance(exc, NotFound):
        return SdmxError(100, exc.message, **exc.params)
    if isinstance(exc, CityGrowthError) and exc.status < 500:
        return SdmxError(140, exc.message, **exc.params)
    return None


def error_response(err: SdmxError) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if err.status == 401 else None
    return Response(write_error(err), status_code=err.status, media_type=ERROR_MEDIA_TYPE,
                    headers=headers)


class SdmxRoute(APIRoute):
    """Answers every error of an SDMX endpoint as an SDMX error message."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except Exception as exc:
                err = _as_sdmx(exc)
                if err is None:
                    raise
                return error_response(err)

        return handler


router = APIRouter(prefix="/sdmx", tags=["exchange: SDMX"], route_class=SdmxRoute)

FormatQ = Annotated[str | None, Query(alias="format", max_length=64, description=(
    "Fallback for the Accept header: genericdata, structurespecificdata, csv (data); "
    "structure (structures)."))]
ReferencesQ = Annotated[str | None, Query(max_length=32, description=(
    "none, parents, parentsandsiblings, children, descendants or all."))]
DetailSQ = Annotated[str | None, Query(alias="detail", max_length=32,
                                       description="full or allstubs.")]


def structures_of(session: Session, runtime: Runtime) -> StructureSet:
    return publication(session, runtime).structures()


def structure_response(
    request: Request, session: Session, runtime: Runtime, resource: str, agency: str,
    resource_id: str, version: str, references: str | None, detail: str | None,
    fmt: str | None,
) -> Response:
    media = negotiate(request.headers.get("accept"), fmt, data=False)
    refs = (references or "none").lower()
    if refs not in REFERENCES and refs not in RESOURCES:
        raise syntax_error(N_("references '{value}' is not one of {allowed}."), value=references,
                           allowed=", ".join(REFERENCES))
    det = (detail or "full").lower()
    if det not in STRUCTURE_DETAILS:
        raise syntax_error(N_("detail '{value}' is not one of {allowed}."), value=detail,
                           allowed=", ".join(STRUCTURE_DETAILS))
    ss = structures_of(session, runtime)
    if agency not in ("all", ss.agency) or version not in ("all", "latest", ss.version):
        raise no_results()
    ids = None if resource_id in ("all", "ALL") else {resource_id}
    sel = select(ss, resource, ids, "children" if refs in RESOURCES else refs,
                 stubs=det == "allstubs")
    if not sel:
        raise no_results()
    return Response(write_structure(ss, sel), media_type=media)


def _register_structure(resource: str) -> None:
    def with_version(request: Request, session: SessionDep, runtime: RuntimeDep, agency: str,
                     resource_id: str, version: str, references: ReferencesQ = None,
                     detail: DetailSQ = None, fmt: FormatQ = None) -> Response:
        return structure_response(request, session, runtime, resource, agency, resource_id,
                                  version, references, detail, fmt)

    def with_id(request: Request, session: SessionDep, runtime: RuntimeDep, agency: str,
                resource_id: str, references: ReferencesQ = None, detail: DetailSQ = None,
                fmt: FormatQ = None) -> Response:
        return structure_response(request, session, runtime, resource, agency, resource_id,
                                  "latest", references, detail, fmt)

    def with_agency(request: Request, session: SessionDep, runtime: RuntimeDep, agency: str,
                    references: ReferencesQ = None, detail: DetailSQ = None,
                    fmt: FormatQ = None) -> Response:
        return structure_response(request, session, runtime, resource, agency, "all",
                                  "latest", references, detail, fmt)

    def every(request: Request, session: SessionDep, runtime: RuntimeDep,
              references: ReferencesQ = None, detail: DetailSQ = None,
              fmt: FormatQ = None) -> Response:
        return structure_response(request, session, runtime, resource, "all", "all",
                                  "latest", references, detail, fmt)

    summary = f"SDMX {resource} (structure message)"
    base = f"/{resource}"
    for suffix, fn in (("", every), ("/{agency}", with_agency),
                       ("/{agency}/{resource_id}", with_id),
                       ("/{agency}/{resource_id}/{version}", with_version)):
        router.add_api_route(
            base + suffix, fn, methods=["GET"], summary=summary, response_class=Response,
            name=f"sdmx_{resource}{suffix.count('/')}",
            responses={200: {"description": "An SDMX-ML 2.1 structure message.",
                             "content": {STRUCTURE: {"schema": {"type": "string"}}}},
                       404: {"content": {
                ERROR_MEDIA_TYPE: {}}}},
            openapi_extra=SDMX_FORMAT,
        )


for _resource in RESOURCES:
    _register_structure(_resource)


def _store_filters(ss: StructureSet, q: DataQuery) -> tuple[set[str] | None, set[str] | None]:
    inds = q.key.get("INDICATOR")
    ours = {ss.indicator_ids.get(i, i) for i in inds} if inds is not None else None
    return ours, q.key.get("AREA")


def data_rows(session: Session, runtime: Runtime, actor: Actor, ss: StructureSet,
              q: DataQuery) -> pd.DataFrame:
    indicators, areas = _store_filters(ss, q)
    frame = read_observations(session, runtime, actor, indicators=indicators, area_codes=areas,
                              start=q.start, end=q.end)
    rows = filter_rows(to_sdmx_frame(frame), q)
    if rows.empty:
        raise no_results()
    if len(rows) > MAX_OBSERVATIONS:
        raise SdmxError(510, N_("The answer would hold {n} observations, more than the {limit} "
                                "this service sends at once; narrow the key or the periods."),
                        None, n=len(rows), limit=MAX_OBSERVATIONS)
    return rows


def data_response(request: Request, session: Session, runtime: Runtime, actor: Actor,
                  flow: str, key: str | None, provider: str | None, params: DataParams
                  ) -> Response:
    media = negotiate(request.headers.get("accept"), params.fmt, data=True)
    q = parse_data_query(key, params.start, params.end, params.dim_at_obs, params.detail,
                         params.first_n, params.last_n)
    ss = structures_of(session, runtime)
    fid = parse_flow(ss, flow)
    check_provider(ss, provider)
    rows = data_rows(session, runtime, actor, ss, q)
    if media == STRUCTURE_SPECIFIC:
        body = write_structure_specific(ss, rows, q.dim_at_obs, q.detail)
    elif media == SDMX_CSV:
        body = write_sdmx_csv(ss, rows, q.detail, flow=fid)
    else:
        body = write_generic(ss, rows, q.dim_at_obs, q.detail)
    return Response(body, media_type=media)


class DataParams:
    """The query parameters of ``/sdmx/data``."""

    def __init__(
        self,
        start: Annotated[str | None, Query(alias="startPeriod", max_length=20)] = None,
        end: Annotated[str | None, Query(alias="endPeriod", max_length=20)] = None,
        dim_at_obs: Annotated[str | None, Query(alias="dimensionAtObservation",
                                                max_length=32)] = None,
        detail: Annotated[str | None, Query(
            max_length=32, description="full, dataonly, serieskeysonly or nodata.")] = None,
        first_n: Annotated[str | None, Query(alias="firstNObservations", max_length=9)] = None,
        last_n: Annotated[str | None, Query(alias="lastNObservations", max_length=9)] = None,
        fmt: FormatQ = None,
    ) -> None:
        self.start, self.end, self.dim_at_obs, self.detail = start, end, dim_at_obs, detail
        self.first_n, self.last_n, self.fmt = first_n, last_n, fmt


DATA_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "SDMX data: generic or structure-specific SDMX-ML 2.1, or SDMX-CSV "
                         "2.0, as the Accept header or format asks.",
          "content": {t: {"schema": {"type": "string"}}
                      for t in (GENERIC, STRUCTURE_SPECIFIC, SDMX_CSV)}},
    400: {"content": {ERROR_MEDIA_TYPE: {}}}, 401: {"content": {ERROR_MEDIA_TYPE: {}}},
    404: {"content": {ERROR_MEDIA_TYPE: {}}}, 406: {"content": {ERROR_MEDIA_TYPE: {}}},
}


@router.get("/data/{flow}", summary="SDMX data of a dataflow", response_class=Response,
            responses=DATA_RESPONSES, openapi_extra=SDMX_FORMAT)
def data_all(request: Request, session: SessionDep, runtime: RuntimeDep, actor: ActorDep,
             flow: str, params: Annotated[DataParams, Depends()]) -> Response:
    return data_response(request, session, runtime, actor, flow, None, None, params)


@router.get("/data/{flow}/{key}", summary="SDMX data for a key (e.g. M.GDP+RETAIL.370203)",
            response_class=Response, responses=DATA_RESPONSES, openapi_extra=SDMX_FORMAT)
def data_key(request: Request, session: SessionDep, runtime: RuntimeDep, actor: ActorDep,
             flow: str, key: str, params: Annotated[DataParams, Depends()]) -> Response:
    return data_response(request, session, runtime, actor, flow, key, None, params)


@router.get("/data/{flow}/{key}/{provider}", summary="SDMX data for a key from one provider",
            response_class=Response, responses=DATA_RESPONSES, openapi_extra=SDMX_FORMAT)
def data_provider(request: Request, session: SessionDep, runtime: RuntimeDep,
                  actor: ActorDep, flow: str, key: str, provider: str,
                  params: Annotated[DataParams, Depends()]) -> Response:
    return data_response(request, session, runtime, actor, flow, key, provider, params)
