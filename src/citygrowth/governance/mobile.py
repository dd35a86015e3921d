"""The mobile app of grid workers and officers in the field (``/m/…``), an installable PWA:
the patrol report with its offline queue (``/m/patrol``), the task list with deadlines as
working time left and actions with the camera (``/m/tasks``), the web app manifest and the
service worker, served from ``/m/sw.js`` so that its scope covers ``/m/``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from citygrowth import __version__
from citygrowth.auth.actor import Actor
from citygrowth.auth.permissions import can, require, scope_prefixes
from citygrowth.governance import media
from citygrowth.governance.display import local_text, root_path
from citygrowth.governance.lifecycle import actions_for
from citygrowth.governance.pages import case_rows
from citygrowth.governance.service import CaseFilter, act, list_cases
from citygrowth.governance.taxonomy import leaf_categories
from citygrowth.i18n import N_, get_locale, translate
from citygrowth.inputs import Text
from citygrowth.runtime import Runtime
from citygrowth.web.deps import RuntimeDep, SessionDep, UserDep
from citygrowth.web.limits import photo_route
from citygrowth.web.templating import render_page

router = APIRouter(tags=["mobile"], default_response_class=HTMLResponse)
STATIC = FsPath(__file__).parent.parent / "web" / "static"
SW_FILE = STATIC / "governance" / "patrol-sw.js"
SHELL_FILES = ("css/app.css", "governance/governance.css", "governance/common.js",
               "governance/mobile.js", "governance/patrol.js", "governance/districtmap.js",
               "governance/patrol-sw.js")
MOBILE_ACTIONS = ("accept", "handle", "verify", "rework")
LABELS = {"verify": N_("Verified: fixed"), "rework": N_("Not fixed: return for rework")}
CaseId = Annotated[int, Path(ge=1, le=2**31)]


def _map_area(actor: Actor, district: str) -> str:
    """The area the patrol map shows: the street of the reporter's grant, else the district."""
    prefixes = scope_prefixes(actor, "case.report")
    streets = {p[:9] for p in prefixes or [] if len(p) >= 9}
    return streets.pop() if len(streets) == 1 else district


@router.get("/m/patrol", summary="Grid worker's patrol report (mobile, works offline)")
def patrol(request: Request, session: SessionDep, actor: UserDep,
           runtime: RuntimeDep) -> Response:
    require(actor, "case.report", None)
    return render_page(request, "governance/patrol.html", actor, {
        "categories": leaf_categories(session), "tz": runtime.settings.timezone,
        "map_area": _map_area(actor, runtime.settings.district_code)})


@router.get("/m/tasks", summary="Tasks in the field: deadlines, actions with the camera")
def tasks(request: Request, session: SessionDep, actor: UserDep,
          runtime: RuntimeDep) -> Response:
    require(actor, "case.view", None)
    now, tz = runtime.now(), runtime.tz
    cases, _ = list_cases(session, actor, CaseFilter(queue="open", limit=500), now)
    mine = [(c, [t for t in actions_for(actor, c) if t.action in MOBILE_ACTIONS])
            for c in cases]
    mine = sorted([m for m in mine if m[1]],
                  key=lambda m: (m[0].due_at is None, m[0].due_at or now, m[0].id))
    rows = case_rows(session, [c for c, _ in mine], now, tz, runtime.calendar)
    for row, (_, acts) in zip(rows, mine, strict=True):
        row["mobile_actions"] = acts
    return render_page(request, "governance/tasks.html", actor, {
        "tasks": rows, "labels": LABELS, "now_local": local_text(now, tz),
        "can_report": can(actor, "case.report")})


def field_photo(session: Session, runtime: Runtime, actor: Actor,
                photo: UploadFile | None) -> list[str]:
    """The camera's photo of a step in the field, checked, re-encoded and stored by the media
    module as every case photo is (none: [])."""
    if photo is None or not photo.filename:
        return []
    limits = media.Limits.of(runtime.settings)
    data = photo.file.read(limits.max_bytes + 1)  # encode_photo refuses more than the limit
    row = media.store_photo(session, runtime.settings.store_dir,
                            media.encode_photo(data, limits, photo.filename[:80]),
                            media.owner_of(actor), runtime.now())
    return [media.ref_of(row.id)]


@router.post("/m/tasks/{case_id}/act", summary="Act on a case in the field (photo, note)",
             openapi_extra=photo_route(1))
def task_act(request: Request, session: SessionDep, actor: UserDep,
             runtime: RuntimeDep, case_id: CaseId,
             action: Annotated[str, Form(pattern=r"^(accept|handle|verify|rework)$")],
             note: Annotated[Text, Form(max_length=2000)] = "",
             photo: Annotated[UploadFile | None, File()] = None) -> Response:
    act(session, actor, case_id, action, runtime=runtime, note=note,
        photos=field_photo(session, runtime, actor, photo))
    return RedirectResponse(root_path(request) + "/m/tasks", status_code=303)


@router.post("/m/tasks/{case_id}/verify", summary="Verify (核查) a handled case")
def verify_case(request: Request, session: SessionDep, actor: UserDep, runtime: RuntimeDep,
                case_id: CaseId, outcome: Annotated[str, Form(pattern=r"^(pass|fail)$")],
                note: Annotated[Text, Form(max_length=2000)] = "") -> Response:
    act(session, actor, case_id, "verify" if outcome == "pass" else "rework", runtime=runtime,
        note=note)
    return RedirectResponse(root_path(request) + "/m/tasks", status_code=303)


# --- the installable app ---------------------------------------------------------------------

def shell_version() -> str:
    """Changes whenever a file of the app shell (or the app's version) changes."""
    h = hashlib.sha256(__version__.encode())
    for name in SHELL_FILES:
        st = (STATIC / name).stat()
        h.update(f"{name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:12]


@router.get("/m/sw.js", summary="The patrol app's service worker", include_in_schema=False)
def service_worker(request: Request) -> Response:
    root = root_path(request)
    body = SW_FILE.read_text(encoding="utf-8").replace("__VERSION__", shell_version()) \
        .replace("__ROOT__", json.dumps(root)[1:-1])
    return Response(body, media_type="text/javascript", headers={
        "Cache-Control": "no-cache", "Service-Worker-Allowed": root + "/m/"})


@router.get("/m/manifest.webmanifest", summary="The patrol app's manifest",
            include_in_schema=False)
def manifest(request: Request) -> Response:
    root = root_path(request)
    icons = "/static/governance/icons/"
    data: dict[str, Any] = {
        "name": translate("Grid patrol"), "short_name": translate("Patrol"),
        "description": translate("Report problems on patrol, also without a connection; "
                                 "handle and verify cases in the field."),
        "id": root + "/m/patrol", "start_url": root + "/m/patrol", "scope": root + "/m/",
        "display": "standalone", "orientation": "portrait", "background_color": "#ffffff",
        "theme_color": "#0b2a4a", "lang": "zh-CN" if get_locale() == "zh_CN" else "en",
        "icons": [{"src": root + icons + "patrol-192.png", "sizes": "192x192",
                   "type": "image/png"},
                  {"src": root + icons + "patrol-512.png", "sizes": "512x512",
                   "type": "image/png"},
                  {"src": root + icons + "patrol-maskable-512.png", "sizes": "512x512",
                   "type": "image/png", "purpose": "maskable"}],
        "shortcuts": [{"name": translate("My tasks"), "url": root + "/m/tasks"}],
    }
    return Response(json.dumps(data, ensure_ascii=False),
                    media_type="application/manifest+json")
