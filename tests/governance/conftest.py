"""A small governed district: areas, departments, the default taxonomy and one actor per role."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor, Grant, system_actor
from citygrowth.auth.models import RoleGrant, User
from citygrowth.governance.intake import ReportInput, submit_report
from citygrowth.governance.models import Case
from citygrowth.governance.taxonomy import ensure_taxonomy
from citygrowth.runtime import Runtime, build_runtime
from citygrowth.settings import Settings
from tests.browser import browser  # noqa: F401  (the Chromium fixture for browser tests)
from tests.factories import DISTRICT, STREET_A, STREET_B, TEST_AUDIT, make_areas, make_department


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48), mode: str = "RGB",
                **save: Any) -> bytes:
    """A small real image (Pillow-made) for the photo tests."""
    buf = io.BytesIO()
    Image.new(mode, size, (200, 60, 30) if mode == "RGB" else None).save(buf, fmt, **save)
    return buf.getvalue()


def upload(web: Web, who: str, data: bytes | None = None) -> str:
    """Upload a photo as ``who`` through the API; its reference (``/media/cases/<id>.jpg``)."""
    r = web.client.post("/api/cases/photos", headers=web.h(who),
                        files={"photo": ("p.png", data or image_bytes(), "image/png")})
    assert r.status_code == 201, r.text
    return str(r.json()["url"])


@dataclass
class Receiver:
    """A department's system as a webhook receiver: what it was sent, and what it answers."""

    url: str
    bodies: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, then 200


@contextmanager
def serve_webhook() -> Iterator[Receiver]:
    """A real HTTP server on a loopback port, in a thread, keeping each POST's headers
    (lower-cased) and body."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    rec = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            rec.bodies.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status = rec.statuses.pop(0) if rec.statuses else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"busy")

        def log_message(self, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


GRID_A = STREET_A + "001001"  # lon 120.30–120.31, lat 36.05–36.06
GRID_B = STREET_B + "001001"  # lon 120.34–120.35, lat 36.05–36.06
POS_A = (120.305, 36.055)
POS_B = (120.345, 36.055)
DEPTS = ("urban", "housing", "ecology", "market", "civil")


# What the services of these tests run with: the default settings (working periods, the
# district's zone) and the built-in plugins. Its store is never used: the tests pass sessions.
RUNTIME = build_runtime(Settings(env="test", scheduler_enabled=False), entry_points=False)


@dataclass
class World:
    session: Session
    actors: dict[str, Actor]
    system: Actor
    runtime: Runtime = RUNTIME

    def report(self, pos: tuple[float, float] = POS_A, category: str = "E0101",
               actor: Actor | None = None, **kw: object) -> Case:
        inp = ReportInput(category_code=category, lon=pos[0], lat=pos[1],
                          description=str(kw.pop("description", "垃圾")), **kw)  # type: ignore[arg-type]
        return submit_report(self.session, actor or self.actors["worker_a"], inp,
                             runtime=self.runtime).case


def build_world(session: Session) -> World:
    make_areas(session)
    for d in DEPTS:
        make_department(session, d, d, d)
    ensure_taxonomy(session, RUNTIME)
    actors: dict[str, Actor] = {}
    for i, (name, grants) in enumerate({
        "admin": [("district_admin", DISTRICT)],
        "cmd_a": [("street_commander", STREET_A)],
        "cmd_b": [("street_commander", STREET_B)],
        "urban": [("department_officer", DISTRICT, "urban")],
        "market": [("department_officer", DISTRICT, "market")],
        "worker_a": [("grid_worker", GRID_A)],
        "worker_b": [("grid_worker", GRID_B)],
        "analyst": [("analyst", DISTRICT)],
        "helper": [("helper", GRID_A)],
        "resident": [("resident", DISTRICT)],
        "machine": [("machine", DISTRICT)],
    }.items()):
        actors[name] = Actor(user_id=1000 + i, username=name, display_name=name,
                             grants=tuple(Grant(*g) for g in grants))
    session.flush()
    return World(session, actors, system_actor("test"))


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


@pytest.fixture
def sworld(sqlite_session: Session) -> World:
    return build_world(sqlite_session)


@dataclass
class Web:
    client: Any
    keys: dict[str, str]
    factory: Any

    def h(self, who: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[who]}


WEB_USERS = {
    "admin": [("district_admin", DISTRICT)],
    "cmd_a": [("street_commander", STREET_A)],
    "cmd_b": [("street_commander", STREET_B)],
    "urban": [("department_officer", DISTRICT, "urban")],
    "market": [("department_officer", DISTRICT, "market")],
    "worker_a": [("grid_worker", GRID_A)],
    "worker_b": [("grid_worker", GRID_B)],
    "helper": [("helper", GRID_A)],
    "machine": [("machine", DISTRICT)],
    "analyst": [("analyst", DISTRICT)],
}


def seed_store(factory: Any, password: str | None = None) -> dict[str, str]:
    """The small district, the departments, the taxonomy and one user per ``WEB_USERS`` role
    (with ``password``, if given); returns each user's API key."""
    from citygrowth.auth.identity import new_api_key
    from citygrowth.auth.passwords import hash_password

    keys = {}
    with factory() as s:
        make_areas(s)
        for d in DEPTS:
            make_department(s, d, d, d)
        ensure_taxonomy(s, RUNTIME)
        for name, grants in WEB_USERS.items():
            user = User(username=name, display_name=name,
                        password_hash=hash_password(password) if password else None)
            for g in grants:
                user.grants.append(RoleGrant(role=g[0], area_code=g[1],
                                             department_code=g[2] if len(g) > 2 else None))
            s.add(user)
            s.flush()
            keys[name] = new_api_key(s, user, "test")
        s.commit()
    return keys


@pytest.fixture
def web(settings: Any, client: Any) -> Iterator[Web]:
    """The app on a store with the small district, taxonomy and one API key per role."""
    from citygrowth.db import make_engine, make_sessionmaker

    engine = make_engine(settings.resolved_database_url)
    factory = make_sessionmaker(engine, TEST_AUDIT)
    keys = seed_store(factory)
    yield Web(client, keys, factory)
    engine.dispose()
