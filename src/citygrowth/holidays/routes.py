"""The holiday calendar: the admin page ``/admin/calendar`` and its JSON API."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import can, require
from citygrowth.errors import CityGrowthError, ValidationFailed
from citygrowth.holidays import service
from citygrowth.holidays.notice import MAX_BYTES, NoticeInput, parse_file, parse_form, parse_mapping
from citygrowth.runtime import Runtime
from citygrowth.web.deps import ActorDep, RuntimeDep, SessionDep, UserDep
from citygrowth.web.templating import render_page
from citygrowth.web.urls import redirect, route_path

api = APIRouter(prefix="/api/calendar", tags=["calendar"])
pages = APIRouter(tags=["calendar"])

Year = Annotated[int, Path(ge=1900, le=2200)]
YearOpt = Annotated[int | None, Query(ge=1900, le=2200)]


@api.get("", summary="Which years' holidays the calendar knows")
def api_overview(session: SessionDep, runtime: RuntimeDep, actor: UserDep) -> dict[str, Any]:
    """Every year from the first the chinese_calendar package knows to next year, with where
    its holidays come from: a loaded notice, the package, or nowhere (Monday–Friday)."""
    return {"years": service.overview(session, actor, runtime.today())}


@api.get("/{year}", summary="A year's holidays and make-up working days")
def api_year(session: SessionDep, actor: UserDep, year: Year) -> dict[str, Any]:
    return service.year_view(session, actor, year)


@api.put("/{year}", summary="Load (or replace) a year's holiday notice")
async def api_load(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                   year: Year, replace: bool = False) -> dict[str, Any]:
    """The notice as JSON in the YAML file's shape (``year``, ``title``, ``holidays``,
    ``workdays``; see docs/operating.md). All or nothing; 409 when the year is loaded and
    ``replace`` is not set."""
    require(actor, service.MANAGE, None)
    body = await request.body()
    if len(body) > MAX_BYTES:
        raise ValidationFailed("The upload is too large.", code="too_large", status=413)
    try:
        data = json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationFailed("The body is not valid JSON.", code="bad_json") from None
    notice = parse_mapping(data, "request.json")
    if notice.year != year:
        raise ValidationFailed("The notice is for {found}, not {year}.", code="wrong_year",
                               found=notice.year, year=year)
    result = service.load_notice(session, actor, notice, replace=replace, runtime=runtime)
    return {"ok": True, **result.__dict__}


@api.delete("/{year}", summary="Remove a loaded holiday notice")
def api_remove(session: SessionDep, actor: UserDep, runtime: RuntimeDep,
               year: Year) -> dict[str, Any]:
    return {"ok": True, "year": year,
            "recomputed": service.remove_notice(session, actor, year, runtime=runtime)}


# --- the admin page --------------------------------------------------------------------------

def _gate(request: Request, actor: Actor) -> Response | None:
    if actor.is_anonymous:
        target = quote(route_path(request.scope)
                       + (f"?{request.url.query}" if request.url.query else ""))
        return redirect(request, f"/login?next={target}")
    require(actor, service.MANAGE, None)
    return None


def _page(request: Request, session: Session, runtime: Runtime, actor: Actor, year: int | None,
          *, err: CityGrowthError | None = None, form: dict[str, str] | None = None,
          done: str = "") -> Response:
    today = runtime.today()
    years = service.overview(session, actor, today)
    shown = year or next((y["year"] for y in years if not y["known"]), today.year + 1)
    problems = [p.render() for p in err.problems] if err else []
    return render_page(request, "holidays/admin.html", actor, {
        "years": years, "view": service.year_view(session, actor, shown), "today": today,
        "error": err.render_message() if err else "", "problems": problems,
        "form": form or {"year": str(shown)}, "done": done,
        "can_manage": can(actor, service.MANAGE, None),
    }, status_code=err.status if err else 200)


@pages.get("/admin/calendar", summary="Holiday calendar (administration)",
           response_class=HTMLResponse)
def calendar_page(request: Request, session: SessionDep, runtime: RuntimeDep,
                  actor: ActorDep, year: YearOpt = None, done: Annotated[
                      str, Query(max_length=20, pattern=r"^[a-z]*$")] = "") -> Response:
    if (gate := _gate(request, actor)) is not None:
        return gate
    return _page(request, session, runtime, actor, year, done=done)


@pages.post("/admin/calendar", summary="Load a holiday notice (form)",
            response_class=HTMLResponse)
async def calendar_load(request: Request, session: SessionDep, runtime: RuntimeDep,
                        actor: UserDep) -> Response:
    """One of: a file (YAML, JSON or CSV) in ``file``; or the fields ``year``, ``title``,
    ``document``, ``holidays`` and ``workdays`` (one line per holiday or make-up day)."""
    require(actor, service.MANAGE, None)
    form_data = await request.form(max_files=1, max_fields=10, max_part_size=MAX_BYTES)
    fields = {k: str(form_data.get(k) or "")[:MAX_BYTES]
              for k in ("year", "title", "document", "holidays", "workdays")}
    replace = form_data.get("replace") == "1"
    upload = form_data.get("file")
    try:
        notice: NoticeInput
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(MAX_BYTES + 1)
            notice = parse_file(data, upload.filename, fields["title"], fields["document"])
        else:
            notice = parse_form(fields["year"], fields["title"], fields["document"],
                                fields["holidays"], fields["workdays"])
        service.load_notice(session, actor, notice, replace=replace, runtime=runtime)
    except CityGrowthError as err:
        session.rollback()
        year = int(fields["year"]) if fields["year"].isdigit() else None
        return _page(request, session, runtime, actor, year, err=err, form=fields)
    return redirect(request, f"/admin/calendar?year={notice.year}&done=loaded")


@pages.post("/admin/calendar/{year}/remove", summary="Remove a holiday notice (form)",
            response_class=HTMLResponse)
def calendar_remove(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                    year: Year) -> Response:
    service.remove_notice(session, actor, year, runtime=runtime)
    return redirect(request, f"/admin/calendar?year={year}&done=removed")
