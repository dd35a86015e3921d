"""Residents' pages: report a problem, follow it, rate or reopen it, see one's own reports and
the reports around (FixMyStreet's "around" page), with the JSON twin of the latter.

``/report`` is for everyone: anonymous visitors report as the public (a resident over the
district), logged-in residents as themselves (their reports are listed under "my reports"),
grid workers and street staff within their areas (``source`` patrol or hotline). The form is
one multipart POST — category, the pin's position (or an address), up to four photos, a
description and an optional contact kept from the public — bounded before it is read; the
photos go through ``governance.media``. The answer is the tracking page, whose code this
browser remembers in its session.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import can, scope_prefixes
from citygrowth.errors import CityGrowthError, Forbidden, NotFound, Problem, ValidationFailed
from citygrowth.governance import media, tracking
from citygrowth.governance.charts import STATUS_COLOURS
from citygrowth.governance.forms import errors_by_field
from citygrowth.governance.icons import SPRITE, category_icon
from citygrowth.governance.intake import ReportInput, public_reporter, submit_report
from citygrowth.governance.lifecycle import transition
from citygrowth.governance.models import Case, CaseCategory
from citygrowth.governance.schemas import AroundPage
from citygrowth.governance.service import by_token, tracked_photo, tracking_actor
from citygrowth.i18n import bilingual, translate
from citygrowth.inputs import Text
from citygrowth.runtime import Runtime
from citygrowth.web.deps import ActorDep, RuntimeDep, SessionDep
from citygrowth.web.limits import photo_route
from citygrowth.web.openapi import form_body
from citygrowth.web.paging import PageRequest, paging
from citygrowth.web.templating import render_page
from citygrowth.web.urls import redirect

router = APIRouter(tags=["residents"], default_response_class=HTMLResponse)
Token = Annotated[str, Path(min_length=8, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
StreetQ = Annotated[str | None, Query(pattern=r"^\d{9}$")]
RESIDENT_PHOTOS = 4
REMEMBERED = 20  # tracking codes a browser keeps for "my reports"
SESSION_KEY = "reports"


# --- the form ------------------------------------------------------------------------------

def category_groups(session: Session) -> list[dict[str, Any]]:
    """Active 大类 with their active 小类, each with its icon and search words."""
    cats = list(session.scalars(select(CaseCategory).where(CaseCategory.active.is_(True))
                                .order_by(CaseCategory.code)))
    majors = {c.code: c for c in cats if c.parent_code is None}
    groups: dict[str, dict[str, Any]] = {}
    for c in cats:
        major = majors.get(c.parent_code or "")
        if major is None:
            continue
        group = groups.setdefault(major.code, {
            "code": major.code, "kind": major.kind, "icon": category_icon(major.code),
            "name": bilingual(major.name_zh, major.name_en), "children": []})
        group["children"].append({
            "code": c.code, "name": bilingual(c.name_zh, c.name_en),
            "icon": category_icon(c.code, c.parent_code),
            "search": " ".join([c.code, c.name_zh, c.name_en, major.name_zh,
                                major.name_en]).lower()})
    return list(groups.values())


def reporter_for(actor: Actor, district_code: str) -> tuple[Actor, str]:
    """Who reports, and through which channel: the public (anonymous, or a login that does
    not report), a resident, a grid worker on patrol, or staff taking a call."""
    if not can(actor, "case.report"):
        return public_reporter(district_code), "resident"
    if actor.has_role("grid_worker"):
        return actor, "patrol"
    if actor.has_role("resident") or actor.has_role("machine"):
        return actor, "resident"
    return actor, "hotline"


def _focus(actor: Actor, district_code: str) -> str:
    """The area the map opens on: the reporter's own (a street, a grid cell), else the
    district."""
    prefixes = scope_prefixes(actor, "case.report") if can(actor, "case.report") else None
    if prefixes and len(prefixes) == 1 and len(prefixes[0]) > len(district_code):
        return prefixes[0]
    return ""


def _form_page(request: Request, session: Session, actor: Actor, runtime: Runtime,
               values: dict[str, Any], err: CityGrowthError | None = None) -> Response:
    settings = runtime.settings
    errors, other = errors_by_field(err) if err else ({}, [])
    reporter, source = reporter_for(actor, settings.district_code)
    return render_page(request, "governance/report.html", actor, {
        "groups": category_groups(session), "values": values, "errors": errors,
        "other_errors": other, "sprite": SPRITE, "max_photos": RESIDENT_PHOTOS,
        "max_mb": settings.photo_max_mb, "source": source,
        "staff": reporter is actor and source != "resident",
        "map": {"focus": _focus(actor, settings.district_code),
                "scope": scope_prefixes(actor, "case.report")
                if can(actor, "case.report") else None}},
        status_code=err.status if err and err.status >= 400 else 200)


@router.get("/report", summary="Report a problem (everyone)")
def report_form(request: Request, session: SessionDep, actor: ActorDep,
                runtime: RuntimeDep) -> Response:
    return _form_page(request, session, actor, runtime, {})


def _number(form: FormData, name: str, low: float, high: float) -> float | None:
    raw = media.form_text(form, name, 40, line=True).strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise ValidationFailed(problems=[Problem(
            "The position is not a valid longitude and latitude.", field="lat", value=raw)])
    return value


def _report_input(form: FormData, source: str) -> ReportInput:
    key = media.form_text(form, "idempotency_key", 64, line=True).strip() or None
    description = media.form_text(form, "description", 4000).strip()
    if not description:
        raise ValidationFailed(problems=[Problem("Describe the problem.", field="description")])
    return ReportInput(
        category_code=media.form_text(form, "category_code", 20, line=True).strip(),
        lat=_number(form, "lat", -90, 90), lon=_number(form, "lon", -180, 180),
        description=description, address=media.form_text(form, "address", 300, line=True),
        contact=media.form_text(form, "contact", 200, line=True).strip(), source=source,
        idempotency_key=key if key and len(key) >= 8 else None)


def _submit(session: Session, runtime: Runtime, reporter: Actor, inp: ReportInput,
            photos: list[media.Encoded]) -> Case:
    owner = media.owner_of(reporter)
    inp.photos = [media.ref_of(media.store_photo(session, runtime.settings.store_dir, p, owner,
                                                 runtime.now()).id) for p in photos]
    try:
        result = submit_report(session, reporter, inp, runtime=runtime)
    except Forbidden as exc:  # a grid worker's or a street's pin outside their area
        raise ValidationFailed(problems=[Problem(
            "This position lies outside the area you report for.", field="lat")]) from exc
    session.commit()
    return result.case


def _refused(request: Request, session: Session, actor: Actor, runtime: Runtime,
             values: dict[str, Any], err: CityGrowthError) -> Response:
    session.rollback()
    return _form_page(request, session, actor, runtime, values, err)


def remember(request: Request, token: str) -> None:
    """Keep a report's tracking code in this browser's session ("my reports")."""
    kept = [t for t in request.session.get(SESSION_KEY, []) if isinstance(t, str)]
    request.session[SESSION_KEY] = [token, *[t for t in kept if t != token]][:REMEMBERED]


REPORT_FORM = form_body({
    "category_code": {"type": "string", "maxLength": 20, "description": "The category (小类)"},
    "description": {"type": "string", "maxLength": 4000},
    "lat": {"type": "number", "minimum": -90, "maximum": 90},
    "lon": {"type": "number", "minimum": -180, "maximum": 180},
    "address": {"type": "string", "maxLength": 300},
    "contact": {"type": "string", "maxLength": 200,
                "description": "Kept from the public; only staff see it"},
    "idempotency_key": {"type": "string", "minLength": 8, "maxLength": 64},
    "csrf_token": {"type": "string"}}, required=("category_code", "description"),
    photos=RESIDENT_PHOTOS)


@router.post("/report", summary="Send a report (multipart form with up to four photos)",
             openapi_extra={**REPORT_FORM, **photo_route(RESIDENT_PHOTOS)})
async def report_submit(request: Request, session: SessionDep, actor: ActorDep,
                        runtime: RuntimeDep) -> Response:
    limits = media.Limits.of(runtime.settings)
    values: dict[str, Any] = {}
    reporter, source = reporter_for(actor, runtime.settings.district_code)
    try:
        form, photos = await media.photo_form(request, limits, RESIDENT_PHOTOS)
        values = {k: v[:4000] if isinstance(v := form.get(k), str) else "" for k in (
            "category_code", "description", "address", "lat", "lon", "contact",
            "idempotency_key")}
        inp = _report_input(form, source)
        case = await run_in_threadpool(_submit, session, runtime, reporter, inp, photos)
    except CityGrowthError as err:
        return await run_in_threadpool(_refused, request, session, actor, runtime, values, err)
    remember(request, case.token)
    return redirect(request, f"/track/{case.token}?sent=1")


# --- tracking ------------------------------------------------------------------------------

@router.get("/track", summary="Find a report by its tracking code")
def track_lookup(request: Request, actor: ActorDep,
                 code: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    token = (code or "").strip().rsplit("/", 1)[-1]
    if token and 8 <= len(token) <= 32 and token.replace("-", "").replace("_", "").isalnum():
        return redirect(request, f"/track/{token}")
    return render_page(request, "governance/track_lookup.html", actor, {
        "code": code or "", "not_found": bool(code)}, status_code=422 if code else 200)


@router.get("/track/{token}", summary="Follow a report (tracking page)")
def track(request: Request, session: SessionDep, actor: ActorDep, runtime: RuntimeDep,
          token: Token, sent: Annotated[bool, Query()] = False) -> Response:
    case = by_token(session, token)
    view = tracking.tracking_view(session, case, token, runtime.tz)
    # a deadline reaching a year whose holiday notice is not loaded is flagged (holidays)
    view["calendar_gaps"] = runtime.calendar.unknown_years(case.reported_at, case.due_at) \
        if view["due_at"] and case.due_at else []
    staff_link = can(actor, "case.view", {"area_code": case.area_code,
                                          "department_code": case.department_code or "(none)"})
    return render_page(request, "governance/track.html", actor, {
        "t": view, "sent": sent, "sprite": SPRITE, "rated": tracking.rated(session, case),
        "staff_link": staff_link})


@router.get("/track/{token}/photos/{name}", summary="A photo of a tracked report",
            include_in_schema=False)
def track_photo(session: SessionDep, runtime: RuntimeDep, token: Token,
                name: Annotated[str, Path(max_length=60)]) -> FileResponse:
    """The report's photos and those of the steps its reporter is shown (the department's
    after-photo, the 核查 photo); nothing else of the case."""
    case = by_token(session, token)
    found = media.file_for(runtime.settings.store_dir, name)
    if found is None or not tracked_photo(session, case, found[0]):
        raise NotFound()
    return media.photo_response(found[1])


@router.post("/track/{token}/rate", summary="Rate a closed case")
def track_rate(request: Request, session: SessionDep, runtime: RuntimeDep, token: Token,
               rating: Annotated[int, Form(ge=1, le=5)],
               note: Annotated[Text, Form(max_length=2000)] = "") -> Response:
    case = by_token(session, token)
    transition(session, tracking_actor(case), case, "rate", rating=rating, note=note,
               runtime=runtime)
    return redirect(request, f"/track/{token}#rating")


@router.post("/track/{token}/reopen", summary="Reopen a closed case")
def track_reopen(request: Request, session: SessionDep, runtime: RuntimeDep, token: Token,
                 note: Annotated[Text, Form(max_length=2000)] = "") -> Response:
    case = by_token(session, token)
    transition(session, tracking_actor(case), case, "reopen", note=note, runtime=runtime)
    return redirect(request, f"/track/{token}")


# --- my reports, reports around --------------------------------------------------------------

@router.get("/my/reports", summary="My reports")
def my_reports(request: Request, session: SessionDep, actor: ActorDep,
               runtime: RuntimeDep) -> Response:
    """The logged-in reporter's cases and those reported from this browser."""
    cases = tracking.my_reports(session, actor, request.session.get(SESSION_KEY, []))
    return render_page(request, "governance/my_reports.html", actor, {
        "rows": tracking.report_rows(session, cases, runtime.tz), "sprite": SPRITE})


def _around(session: Session, runtime: Runtime, street: str | None) -> list[dict[str, Any]]:
    if street and session.get(Area, street) is None:
        raise NotFound("No area with code {area}.", area=street)
    cases = tracking.around(session, now=runtime.now(), street=street)
    return tracking.public_rows(session, cases, runtime.tz)


@router.get("/around", summary="Reports around (public map and list)")
def around_page(request: Request, session: SessionDep, actor: ActorDep,
                runtime: RuntimeDep, street: StreetQ = None) -> Response:
    settings = runtime.settings
    rows = _around(session, runtime, street)
    streets = session.scalars(select(Area).where(Area.level == "street",
                                                 Area.parent_code == settings.district_code)
                              .order_by(Area.code))
    return render_page(request, "governance/around.html", actor, {
        "rows": rows, "street": street or "", "days": tracking.AROUND_DAYS, "sprite": SPRITE,
        "streets": [(s.code, bilingual(s.name_zh, s.name_en)) for s in streets],
        "markers": [{"id": r["id"], "lon": r["lon"], "lat": r["lat"],
                     "color": STATUS_COLOURS.get(r["status"], "#0b5cad"),
                     "title": f"{r['category']} · {r['status_label']} · {r['reported_on']}"}
                    for r in rows if r["lon"] is not None and r["lat"] is not None]})


@router.get("/api/around", summary="Reports around, as anyone may see them (JSON)",
            response_class=JSONResponse, response_model=AroundPage)
def around_json(session: SessionDep, runtime: RuntimeDep,
                page: Annotated[PageRequest, paging(100, tracking.AROUND_LIMIT)],
                street: StreetQ = None) -> dict[str, Any]:
    """Reports of the last 30 days (of one street, if given; the newest 200), newest first:
    category, state, street, community, day and a position rounded to about 100 m — no
    description, address, contact or photo."""
    return page.slice(_around(session, runtime, street), days=tracking.AROUND_DAYS,
                      note=translate("Positions are rounded to about 100 m."))
