"""``/open311/v2/``: the GeoReport v2 endpoints. Every error here is in the spec's format (a
list of {code, description}), in the format the URL asked for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from citygrowth.auth.identity import actor_for_api_key
from citygrowth.auth.models import Department
from citygrowth.auth.permissions import can
from citygrowth.db import utcnow
from citygrowth.errors import CityGrowthError
from citygrowth.governance.intake import submit_report
from citygrowth.governance.lifecycle import OPEN
from citygrowth.governance.models import Case, CaseCategory, CaseEvent
from citygrowth.governance.open311 import formats
from citygrowth.governance.open311.service import (
    DEFAULT_LIMIT,
    MAX_DAYS,
    SPEC,
    SpecError,
    definition,
    parse_w3,
    report_from_form,
    request_item,
    services,
    update_item,
)
from citygrowth.i18n import translate
from citygrowth.web.deps import SessionDep, runtime_of

router = APIRouter(prefix="/open311/v2", tags=["open311"])
# Errors here are in the GeoReport format (a list of {code, description}), which clients parse.
SPEC_ERRORS = {"x-error-format": "open311"}
Q = str | None


def _fmt(fmt: str) -> str:
    if fmt not in formats.FORMATS:
        raise SpecError(404, translate("Format {fmt} is not offered; use json or xml.")
                        .format(fmt=fmt))
    return fmt


def _jurisdiction(request: Request, value: str | None) -> None:
    if value and value.strip() and value.strip() != runtime_of(request).settings.district_code:
        raise SpecError(404, translate("jurisdiction_id {value} was not found.")
                        .format(value=value))


async def _guard(fmt: str, make: Callable[[], Awaitable[Response]]) -> Response:
    try:
        _fmt(fmt)
        return await make()
    except SpecError as exc:
        return formats.errors(fmt, exc.status, [(exc.code, exc.description)])
    except CityGrowthError as exc:
        status = 403 if exc.status in (401, 403) else 404 if exc.status == 404 else 400
        items = [(exc.code, exc.render_message())]
        items += [(exc.code, p.render()["message"]) for p in exc.problems]
        return formats.errors(fmt, status, items)


@router.get("/discovery.{fmt}", summary="Open311 service discovery", openapi_extra=SPEC_ERRORS)
async def discovery(request: Request, fmt: str) -> Response:
    async def make() -> Response:
        base = str(request.base_url).rstrip("/") + "/open311/v2"
        data = {"changeset": "2026-11-26T00:00:00+08:00",
                "contact": translate("Contact the district command center."),
                "key_service": translate("API keys are issued by the district administrator "
                                         "(citygrowth users api-key)."),
                "endpoints": [{"specification": SPEC, "url": base,
                               "changeset": "2026-11-26T00:00:00+08:00", "type": "production",
                               "formats": ["text/xml", "application/json"]}]}
        return formats.render(fmt, "discovery", None, data)
    return await _guard(fmt, make)


@router.get("/services.{fmt}", summary="Open311 service list", openapi_extra=SPEC_ERRORS)
async def service_list(request: Request, session: SessionDep, fmt: str,
                       jurisdiction_id: Q = None) -> Response:
    async def make() -> Response:
        _jurisdiction(request, jurisdiction_id)
        return formats.render(fmt, "services", "service", services(session))
    return await _guard(fmt, make)


@router.get("/services/{service_code}.{fmt}", summary="Open311 service definition",
            openapi_extra=SPEC_ERRORS)
async def service_definition(request: Request, session: SessionDep, service_code: str, fmt: str,
                             jurisdiction_id: Q = None) -> Response:
    async def make() -> Response:
        _jurisdiction(request, jurisdiction_id)
        return formats.render(fmt, "service_definition", None, definition(session, service_code))
    return await _guard(fmt, make)


def _form_lists(form: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in form.multi_items():
        if isinstance(v, str):
            out.setdefault(k, []).append(v)
    return out


@router.post("/requests.{fmt}", summary="Open311 POST service request", openapi_extra=SPEC_ERRORS)
async def post_request(
    request: Request, session: SessionDep, fmt: str,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    async def make() -> Response:
        try:
            form = _form_lists(await request.form())
        except Exception:  # a body that is not a form
            raise SpecError(400, translate("The body must be form-encoded.")) from None
        _jurisdiction(request, (form.get("jurisdiction_id") or [""])[0])
        key = (form.get("api_key") or [""])[0] or request.headers.get("x-api-key", "")
        actor = actor_for_api_key(session, key.strip(), runtime_of(request).permissions) \
            if key.strip() else None
        if actor is None:
            raise SpecError(403, translate("Missing or invalid api_key."))
        posted = report_from_form(session, form)
        if posted.missing_attributes:
            raise SpecError(400, translate("Required attribute missing: {codes}.")
                            .format(codes=", ".join(posted.missing_attributes)))
        posted.inp.idempotency_key = idempotency_key
        result = submit_report(session, actor, posted.inp, runtime=runtime_of(request))
        session.commit()  # durable before it is acknowledged
        notice = translate("Received. Track it at {url}").format(
            url=str(request.base_url).rstrip("/") + f"/track/{result.case.token}")
        data = [{"service_request_id": str(result.case.id), "service_notice": notice,
                 "account_id": result.case.account_id or None}]
        return formats.render(fmt, "service_requests", "request", data,
                              201 if result.created else 200)
    return await _guard(fmt, make)


def _ids(text: str) -> list[int]:
    try:
        ids = [int(x) for x in text.split(",") if x.strip()]
        if any(not 0 < i < 2**31 for i in ids) or not text.isascii():
            raise ValueError(text)
    except ValueError:
        raise SpecError(400, translate("service_request_id must be numbers separated by "
                                       "commas.")) from None
    return ids[:DEFAULT_LIMIT]


def _page(value: str | None, name: str, default: int, top: int) -> int:
    if value is None or value.strip() == "":
        return default
    v = value.strip()
    if not (v.isascii() and v.isdigit()) or not 1 <= int(v) <= top:
        raise SpecError(400, translate("{name} must be a whole number from 1 to {top}.")
                        .format(name=name, top=top))
    return int(value)


def _request_query(session: Session, p: dict[str, str | None]) -> list[Case]:
    q = select(Case)
    if p.get("service_request_id"):
        q = q.where(Case.id.in_(_ids(p["service_request_id"] or "")))
    else:
        now = utcnow()
        end_text, start_text = p.get("end_date"), p.get("start_date")
        end = parse_w3(end_text, "end_date") if end_text else None
        start = parse_w3(start_text, "start_date") if start_text else None
        if start is None:
            start = (end or now) - dt.timedelta(days=MAX_DAYS)
        if end is None:
            end = max(start + dt.timedelta(days=MAX_DAYS), now) if p.get("start_date") else now
        if end < start or end - start > dt.timedelta(days=MAX_DAYS):
            raise SpecError(400, translate("start_date and end_date may span at most 90 days."))
        q = q.where(Case.reported_at >= start, Case.reported_at <= end)
        if p.get("service_code"):
            q = q.where(Case.category_code.in_(
                [c.strip() for c in (p["service_code"] or "").split(",") if c.strip()]))
        if p.get("status"):
            wanted = {s.strip().lower() for s in (p["status"] or "").split(",") if s.strip()}
            if not wanted <= {"open", "closed"}:
                raise SpecError(400, translate("status must be open or closed."))
            if wanted == {"open"}:
                q = q.where(Case.status.in_(OPEN))
            elif wanted == {"closed"}:
                q = q.where(Case.status.not_in(OPEN))
    size = _page(p.get("page_size"), "page_size", DEFAULT_LIMIT, DEFAULT_LIMIT)
    page = _page(p.get("page"), "page", 1, 100000)
    q = q.order_by(Case.reported_at.desc(), Case.id.desc()).limit(size).offset((page - 1) * size)
    return list(session.scalars(q))


def _render_requests(request: Request, session: Session, fmt: str, cases: list[Case],
                     extensions: str | None) -> Response:
    ext = (extensions or "").lower() == "true"
    cats = {c.code: c for c in session.scalars(select(CaseCategory))}
    depts = {d.code: d for d in session.scalars(select(Department))}
    base = str(request.base_url)
    tz = runtime_of(request).tz
    items = [request_item(session, c, base, ext, cats, depts, tz) for c in cases]
    return formats.render(fmt, "service_requests", "request", items)


@router.get("/requests.{fmt}", summary="Open311 GET service requests", openapi_extra=SPEC_ERRORS)
async def get_requests(request: Request, session: SessionDep, fmt: str,
                       jurisdiction_id: Q = None, service_request_id: Q = None,
                       service_code: Q = None, start_date: Q = None, end_date: Q = None,
                       status: Q = None, page: Q = None, page_size: Q = None,
                       extensions: Q = None) -> Response:
    async def make() -> Response:
        _jurisdiction(request, jurisdiction_id)
        cases = _request_query(session, {
            "service_request_id": service_request_id, "service_code": service_code,
            "start_date": start_date, "end_date": end_date, "status": status, "page": page,
            "page_size": page_size})
        return _render_requests(request, session, fmt, cases, extensions)
    return await _guard(fmt, make)


@router.get("/requests/{service_request_id}.{fmt}", summary="Open311 GET one service request",
            openapi_extra=SPEC_ERRORS)
async def get_request(request: Request, session: SessionDep, service_request_id: str, fmt: str,
                      jurisdiction_id: Q = None, extensions: Q = None) -> Response:
    async def make() -> Response:
        _jurisdiction(request, jurisdiction_id)
        rid = service_request_id
        case = session.get(Case, int(rid)) if rid.isascii() and rid.isdigit() \
            and 0 < int(rid) < 2**31 else None
        if case is None:
            raise SpecError(404, translate("service_request_id {id} was not found.")
                            .format(id=service_request_id))
        return _render_requests(request, session, fmt, [case], extensions)
    return await _guard(fmt, make)


@router.get("/tokens/{token}.{fmt}", summary="Open311 service_request_id from a token",
            openapi_extra=SPEC_ERRORS)
async def get_token(request: Request, session: SessionDep, token: str, fmt: str,
                    jurisdiction_id: Q = None) -> Response:
    async def make() -> Response:
        _jurisdiction(request, jurisdiction_id)
        case = session.scalar(select(Case).where(Case.token == token)) if len(token) <= 32 \
            else None
        if case is None:
            raise SpecError(404, translate("token {token} was not found.").format(token=token))
        data = [{"service_request_id": str(case.id), "token": token}]
        return formats.render(fmt, "service_requests", "request", data)
    return await _guard(fmt, make)


@router.get("/servicerequestupdates.{fmt}", summary="Open311 updates (FixMyStreet extension)",
            openapi_extra=SPEC_ERRORS)
async def get_updates(request: Request, session: SessionDep, fmt: str,
                      jurisdiction_id: Q = None, start_date: Q = None, end_date: Q = None,
                      api_key: Q = None) -> Response:
    async def make() -> Response:
        _jurisdiction(request, jurisdiction_id)
        actor = actor_for_api_key(session, api_key, runtime_of(request).permissions) \
            if api_key else None
        if actor is None or not can(actor, "case.view"):
            raise SpecError(403, translate("Missing or invalid api_key."))
        now = utcnow()
        end = parse_w3(end_date, "end_date") if end_date else now
        start = parse_w3(start_date, "start_date") if start_date else end - dt.timedelta(days=1)
        if end < start or end - start > dt.timedelta(days=MAX_DAYS):
            raise SpecError(400, translate("start_date and end_date may span at most 90 days."))
        q = (select(CaseEvent).where(CaseEvent.at >= start, CaseEvent.at <= end,
                                     or_(CaseEvent.action != "report"))
             .order_by(CaseEvent.at, CaseEvent.id).limit(DEFAULT_LIMIT))
        items = [update_item(e, runtime_of(request).tz) for e in session.scalars(q)]
        return formats.render(fmt, "service_request_updates", "request_update", items)
    return await _guard(fmt, make)
