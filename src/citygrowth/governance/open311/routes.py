"""``/open311/v2/``: the GeoReport v2 endpoints, and the same endpoints as a test endpoint
(``/open311/test/v2/``, listed in discovery beside production) that checks a POST exactly as
production does but stores nothing. Every error here is in the spec's format (a list of
{code, description}), in the format the URL asked for.

An API key is taken from the ``X-API-Key`` header (or ``Authorization: Bearer``) on every
endpoint, or from the ``api_key`` field as FixMyStreet sends it; a key that is given but not
valid is refused (403) wherever it is given. A key whose holder may view cases reads its own
areas' requests in full (the API's scoping); without one, the request list shows what
``CITYGROWTH_OPEN311_PUBLICATION`` publishes.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from citygrowth.areas.tree import cached_tree
from citygrowth.auth.actor import Actor
from citygrowth.auth.identity import actor_for_api_key
from citygrowth.auth.models import Department
from citygrowth.auth.permissions import can, require
from citygrowth.db import utcnow
from citygrowth.errors import CityGrowthError
from citygrowth.governance.intake import locate, submit_report
from citygrowth.governance.lifecycle import OPEN
from citygrowth.governance.models import Case, CaseCategory, CaseEvent, open_term
from citygrowth.governance.open311 import formats
from citygrowth.governance.open311.schemas import (
    Open311Definition,
    Open311Discovery,
    Open311PostedList,
    Open311Requests,
    Open311Services,
    Open311Tokens,
    Open311Updates,
    answers,
)
from citygrowth.governance.open311.service import (
    DEFAULT_LIMIT,
    MAX_DAYS,
    REQUEST_COLUMNS,
    SPEC,
    RequestNames,
    SpecError,
    definition,
    parse_w3,
    report_from_form,
    request_item,
    services,
    update_item,
)
from citygrowth.governance.service import scoped_query
from citygrowth.i18n import translate
from citygrowth.settings import Settings
from citygrowth.web.deps import SessionDep, api_key_from_headers, runtime_of
from citygrowth.web.openapi import TEXT

PRODUCTION, TEST = "/open311/v2", "/open311/test/v2"
CHANGESET = "2026-12-04T00:00:00+08:00"
# Errors here are in the GeoReport format (a list of {code, description}), which clients parse.
SPEC_ERRORS = {"x-error-format": "open311",
               "security": [{"ApiKey": []}, {"Bearer": []}, {"Open311Key": []}, {}]}
Q = str | None
# The POST body: form fields as GeoReport v2 names them (attribute[code] for attributes).
POST_BODY = {"requestBody": {"required": True, "content": {
    "application/x-www-form-urlencoded": {"schema": {
        "type": "object", "additionalProperties": {"type": "string"},
        "required": ["service_code"],
        "properties": {n: {"type": "string"} for n in (
            "api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string",
            "address_id", "email", "device_id", "account_id", "first_name", "last_name",
            "phone", "description", "media_url")}}}}}}


def _fmt(fmt: str) -> str:
    if fmt not in formats.FORMATS:
        raise SpecError(404, translate("Format {fmt} is not offered; use json or xml.")
                        .format(fmt=fmt))
    return fmt


def _settings(request: Request) -> Settings:
    settings: Settings = runtime_of(request).settings
    return settings


def _jurisdiction(request: Request, value: str | None) -> None:
    if value and value.strip() and value.strip() != _settings(request).district_code:
        raise SpecError(404, translate("jurisdiction_id {value} was not found.")
                        .format(value=value))


def _key_actor(request: Request, session: Session, field: str | None) -> Actor | None:
    """The holder of the API key given in a header or the ``api_key`` field (None: no key);
    a key that is given but unknown, revoked or of a disabled user is refused."""
    key = (api_key_from_headers(request) or (field or "")).strip()
    if not key:
        return None
    actor = actor_for_api_key(session, key, runtime_of(request).permissions)
    if actor is None:
        raise SpecError(403, translate("Missing or invalid api_key."))
    return actor


def _reader(request: Request, session: Session, field: str | None) -> Actor | None:
    """Who reads requests in full: a key holder who may view cases (None: the public)."""
    actor = _key_actor(request, session, field)
    return actor if actor is not None and can(actor, "case.view") else None


async def _guard(fmt: str, make: Callable[[], Response]) -> Response:
    """``make``'s answer, worked out in the thread pool (it reads and writes the store), or
    the spec's error list for a refusal."""
    try:
        _fmt(fmt)
        return await run_in_threadpool(make)
    except SpecError as exc:
        return formats.errors(fmt, exc.status, [(exc.code, exc.description)])
    except CityGrowthError as exc:
        status = 403 if exc.status in (401, 403) else 404 if exc.status == 404 else 400
        items = [(exc.code, exc.render_message())]
        items += [(exc.code, p.render()["message"]) for p in exc.problems]
        return formats.errors(fmt, status, items)


def _form_lists(form: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in form.multi_items():
        if isinstance(v, str):
            out.setdefault(k, []).append(v)
    return out


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


def _requests_of(reader: Actor | None) -> Select[Case]:
    """The cases a reader may list: a key holder's areas and departments (as in the API),
    or every case of the district for the public (published as the setting says)."""
    if reader is not None:
        return scoped_query(reader)
    return select(Case)


def _request_query(session: Session, reader: Actor | None,
                   p: dict[str, str | None]) -> list[Any]:
    """The requests asked for, as rows of the columns a ``request`` shows (a thousand
    of them load several times faster than as ORM objects)."""
    q = _requests_of(reader).with_only_columns(*REQUEST_COLUMNS)
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
                q = q.where(open_term())
            elif wanted == {"closed"}:
                q = q.where(Case.status.not_in(OPEN))
    size = _page(p.get("page_size"), "page_size", DEFAULT_LIMIT, DEFAULT_LIMIT)
    page = _page(p.get("page"), "page", 1, 100000)
    q = q.order_by(Case.reported_at.desc(), Case.id.desc()).limit(size).offset((page - 1) * size)
    return list(session.execute(q))


def _render_requests(request: Request, session: Session, fmt: str, cases: list[Any],
                     extensions: str | None, reader: Actor | None) -> Response:
    ext = (extensions or "").lower() == "true"
    full = reader is not None or _settings(request).open311_publication == "full"
    names = RequestNames({c.code: c for c in session.scalars(select(CaseCategory))},
                         {d.code: d for d in session.scalars(select(Department))})
    # grid cells' centres from the app's cached area tree (a list names up to 1,000 cells)
    centres = {} if full else cached_tree(request.app.state, session).centroid
    base = str(request.base_url)
    tz = runtime_of(request).tz
    items = [request_item(session, c, base, ext, names, tz, full,
                          centres.get(c.area_code)) for c in cases]
    return formats.render(fmt, "service_requests", "request", items)


def make_router(prefix: str, test: bool) -> APIRouter:
    """The GeoReport endpoints under ``prefix``; ``test``: the test endpoint."""
    router = APIRouter(prefix=prefix, tags=["open311"], include_in_schema=not test,
                       default_response_class=Response)

    @router.get("/discovery.{fmt}", summary="Open311 service discovery",
                openapi_extra=SPEC_ERRORS, responses=answers(Open311Discovery))
    async def discovery(request: Request, session: SessionDep, fmt: str,
                        api_key: Q = None) -> Response:
        def make() -> Response:
            _key_actor(request, session, api_key)
            root = str(request.base_url).rstrip("/")
            test_url = _settings(request).open311_test_url.strip().rstrip("/") or root + TEST
            listed = [("production", root + PRODUCTION), ("test", test_url)]
            data = {"changeset": CHANGESET,
                    "contact": translate("Contact the district command center."),
                    "key_service": translate("API keys are issued by the district "
                                             "administrator (citygrowth users api-key)."),
                    "endpoints": [{"specification": SPEC, "url": url, "changeset": CHANGESET,
                                   "type": kind, "formats": ["text/xml", "application/json"]}
                                  for kind, url in listed]}
            return formats.render(fmt, "discovery", None, data)
        return await _guard(fmt, make)

    @router.get("/services.{fmt}", summary="Open311 service list", openapi_extra=SPEC_ERRORS,
                responses=answers(Open311Services))
    async def service_list(request: Request, session: SessionDep, fmt: str,
                           jurisdiction_id: Q = None, api_key: Q = None) -> Response:
        def make() -> Response:
            _jurisdiction(request, jurisdiction_id)
            _key_actor(request, session, api_key)
            return formats.render(fmt, "services", "service", services(session))
        return await _guard(fmt, make)

    @router.get("/services/{service_code}.{fmt}", summary="Open311 service definition",
                openapi_extra=SPEC_ERRORS, responses=answers(Open311Definition))
    async def service_definition(request: Request, session: SessionDep, service_code: str,
                                 fmt: str, jurisdiction_id: Q = None,
                                 api_key: Q = None) -> Response:
        def make() -> Response:
            _jurisdiction(request, jurisdiction_id)
            _key_actor(request, session, api_key)
            return formats.render(fmt, "service_definition", None,
                                  definition(session, service_code))
        return await _guard(fmt, make)

    @router.post("/requests.{fmt}", summary="Open311 POST service request",
                 openapi_extra={**SPEC_ERRORS, **POST_BODY},
                 responses={**answers(Open311PostedList, 201, "Taken in"), 200: {
                     "model": Open311PostedList, "content": {"text/xml": {"schema": TEXT}},
                     "description": "Taken in before (the same Idempotency-Key)"}})
    async def post_request(
        request: Request, session: SessionDep, fmt: str,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> Response:
        try:
            form: dict[str, list[str]] | None = _form_lists(await request.form())
        except Exception:  # a body that is not a form
            form = None

        def make() -> Response:
            if form is None:
                raise SpecError(400, translate("The body must be form-encoded."))
            _jurisdiction(request, (form.get("jurisdiction_id") or [""])[0])
            actor = _key_actor(request, session, (form.get("api_key") or [""])[0])
            if actor is None:
                raise SpecError(403, translate("Missing or invalid api_key."))
            posted = report_from_form(session, form)
            if posted.missing_attributes:
                raise SpecError(400, translate("Required attribute missing: {codes}.")
                                .format(codes=", ".join(posted.missing_attributes)))
            posted.inp.idempotency_key = idempotency_key
            if test:
                return _test_answer(request, session, fmt, actor, posted.inp)
            result = submit_report(session, actor, posted.inp, runtime=runtime_of(request))
            session.commit()  # durable before it is acknowledged
            notice = translate("Received. Track it at {url}").format(
                url=str(request.base_url).rstrip("/") + f"/track/{result.case.token}")
            data = [{"service_request_id": str(result.case.id), "service_notice": notice,
                     "account_id": result.case.account_id or None}]
            return formats.render(fmt, "service_requests", "request", data,
                                  201 if result.created else 200)
        return await _guard(fmt, make)

    @router.get("/requests.{fmt}", summary="Open311 GET service requests",
                openapi_extra=SPEC_ERRORS, responses=answers(Open311Requests))
    async def get_requests(request: Request, session: SessionDep, fmt: str,
                           jurisdiction_id: Q = None, service_request_id: Q = None,
                           service_code: Q = None, start_date: Q = None, end_date: Q = None,
                           status: Q = None, page: Q = None, page_size: Q = None,
                           extensions: Q = None, api_key: Q = None) -> Response:
        def make() -> Response:
            _jurisdiction(request, jurisdiction_id)
            reader = _reader(request, session, api_key)
            cases = _request_query(session, reader, {
                "service_request_id": service_request_id, "service_code": service_code,
                "start_date": start_date, "end_date": end_date, "status": status, "page": page,
                "page_size": page_size})
            return _render_requests(request, session, fmt, cases, extensions, reader)
        return await _guard(fmt, make)

    @router.get("/requests/{service_request_id}.{fmt}",
                summary="Open311 GET one service request", openapi_extra=SPEC_ERRORS,
                responses=answers(Open311Requests))
    async def get_request(request: Request, session: SessionDep, service_request_id: str,
                          fmt: str, jurisdiction_id: Q = None, extensions: Q = None,
                          api_key: Q = None) -> Response:
        def make() -> Response:
            _jurisdiction(request, jurisdiction_id)
            reader = _reader(request, session, api_key)
            rid = service_request_id
            case = session.scalar(_requests_of(reader).where(Case.id == int(rid))) \
                if rid.isascii() and rid.isdigit() and 0 < int(rid) < 2**31 else None
            if case is None:
                raise SpecError(404, translate("service_request_id {id} was not found.")
                                .format(id=service_request_id))
            return _render_requests(request, session, fmt, [case], extensions, reader)
        return await _guard(fmt, make)

    @router.get("/tokens/{token}.{fmt}", summary="Open311 service_request_id from a token",
                openapi_extra=SPEC_ERRORS, responses=answers(Open311Tokens))
    async def get_token(request: Request, session: SessionDep, token: str, fmt: str,
                        jurisdiction_id: Q = None, api_key: Q = None) -> Response:
        def make() -> Response:
            _jurisdiction(request, jurisdiction_id)
            _key_actor(request, session, api_key)
            case = session.scalar(select(Case).where(Case.token == token)) \
                if len(token) <= 32 else None
            if case is None:
                raise SpecError(404, translate("token {token} was not found.")
                                .format(token=token))
            data = [{"service_request_id": str(case.id), "token": token}]
            return formats.render(fmt, "service_requests", "request", data)
        return await _guard(fmt, make)

    @router.get("/servicerequestupdates.{fmt}",
                summary="Open311 updates (FixMyStreet extension)", openapi_extra=SPEC_ERRORS,
                responses=answers(Open311Updates))
    async def get_updates(request: Request, session: SessionDep, fmt: str,
                          jurisdiction_id: Q = None, start_date: Q = None, end_date: Q = None,
                          api_key: Q = None) -> Response:
        def make() -> Response:
            _jurisdiction(request, jurisdiction_id)
            actor = _reader(request, session, api_key)
            if actor is None:
                raise SpecError(403, translate("Missing or invalid api_key."))
            now = utcnow()
            end = parse_w3(end_date, "end_date") if end_date else now
            start = parse_w3(start_date, "start_date") if start_date \
                else end - dt.timedelta(days=1)
            if end < start or end - start > dt.timedelta(days=MAX_DAYS):
                raise SpecError(400, translate("start_date and end_date may span at most 90 "
                                               "days."))
            mine = scoped_query(actor).with_only_columns(Case.id)
            q = (select(CaseEvent).where(CaseEvent.at >= start, CaseEvent.at <= end,
                                         or_(CaseEvent.action != "report"),
                                         CaseEvent.case_id.in_(mine))
                 .order_by(CaseEvent.at, CaseEvent.id).limit(DEFAULT_LIMIT))
            items = [update_item(e, runtime_of(request).tz) for e in session.scalars(q)]
            return formats.render(fmt, "service_request_updates", "request_update", items)
        return await _guard(fmt, make)

    return router


def _test_answer(request: Request, session: Session, fmt: str, actor: Actor,
                 inp: Any) -> Response:
    """The test endpoint's answer to a POST: checked as production checks it (service,
    position in the district, the key's right to report there), nothing stored."""
    area = locate(session, inp, _settings(request).district_code)
    require(actor, "case.report", area)
    data = [{"service_request_id": f"test-{secrets.token_hex(6)}",
             "service_notice": translate("Test endpoint: the request is valid and was not "
                                         "stored."),
             "account_id": inp.account_id or None}]
    return formats.render(fmt, "service_requests", "request", data, 201)


router = make_router(PRODUCTION, test=False)
test_router = make_router(TEST, test=True)
