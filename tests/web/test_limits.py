"""Request bodies are bounded per route class before anything reads them (also in the CSRF
middleware), and the 413 has the one error shape in the caller's language."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from citygrowth.app import create_app
from citygrowth.settings import Settings
from citygrowth.web.limits import BodyLimitMiddleware, photo_body_limit, upload_route_contexts
from tests.web.login import form_token

SMALL = 4  # KiB, so that the tests send little


@pytest.fixture
def small(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"max_body_kb": SMALL, "max_upload_mb": 1}))
    with TestClient(app) as c:
        yield c


def _chunks(total: int, size: int = 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


def test_a_declared_length_over_the_limit_is_refused_unread(small: TestClient) -> None:
    big = b"{" + b" " * (SMALL * 1024) + b"}"
    r = small.post("/api/auth/users", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.headers["connection"] == "close"
    assert r.json() == {"ok": False, "code": "too_large", "errors": [],
                        "error": "请求超过 4 KiB，超出此地址接受的上限。"}
    en = small.post("/api/auth/users?lang=en", content=big,
                    headers={"content-type": "application/json"})
    assert en.json()["error"] == "The request is larger than 4 KiB, the most this address accepts."


def test_a_chunked_body_is_refused_once_it_passes_the_limit(small: TestClient) -> None:
    r = small.post("/api/auth/users", content=_chunks(SMALL * 1024 * 3),
                   headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "too_large"


def test_a_body_within_the_limit_reaches_the_route(small: TestClient) -> None:
    r = small.post("/api/auth/users", json={"username": "x"})
    assert r.status_code == 401  # read, then refused for want of a login


def test_upload_routes_take_the_upload_limit(small: TestClient) -> None:
    routes = {c.path for c in upload_route_contexts(small.app.routes)}  # type: ignore[attr-defined]
    assert {"/api/ingest/{dataset}", "/data/upload"} <= routes
    assert "/api/auth/users" not in routes
    # 100 KiB passes the upload limit (1 MiB) and reaches the route (which wants a login)
    r = small.post("/api/ingest/anything", files={"file": ("a.csv", b"x" * 100 * 1024)})
    assert r.status_code == 401
    r = small.post("/api/ingest/anything", files={"file": ("a.csv", b"x" * 2 * 2**20)})
    assert r.status_code == 413


def test_csrf_middleware_reads_a_form_only_up_to_the_limit(small: TestClient) -> None:
    token = form_token(small)  # a session, so the CSRF middleware reads the form
    r = small.post("/logout", content=_chunks(SMALL * 1024 * 3),
                   headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    ok = small.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303


def test_csrf_middleware_looks_for_the_token_at_the_start_of_a_multipart_body(
        small: TestClient) -> None:
    token = form_token(small)
    late = small.post("/data/upload", files={"file": ("a.csv", b"x" * 100 * 1024)},
                      data={"csrf_token": token})  # httpx puts data fields first …
    assert late.status_code != 403
    body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n"
            + b"x" * 100 * 1024 + b"\r\n--b\r\nContent-Disposition: form-data; "
            b"name=\"csrf_token\"\r\n\r\n" + token.encode() + b"\r\n--b--\r\n")
    r = small.post("/data/upload", content=body,  # … a token after 64 KiB of file is not read
                   headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 403 and r.json()["code"] == "csrf"


def test_photo_routes_take_their_photos_times_the_photo_cap(settings: Settings) -> None:
    """One place for the photo size cap: a route taking n photos accepts n × photo_max_mb
    plus the form's room, however large the data-file upload limit is."""
    app = create_app(settings.model_copy(update={"max_body_kb": SMALL, "max_upload_mb": 50,
                                                 "photo_max_mb": 1}))
    with TestClient(app) as c:
        mw = BodyLimitMiddleware(app, max_body=SMALL * 1024, max_upload=50 * 2**20,
                                 max_photo=2**20)
        scope = {"type": "http", "app": app, "path": "", "root_path": ""}

        def limit(method: str, path: str) -> int:
            return mw.limit_for({**scope, "method": method, "path": path})

        assert limit("POST", "/report") == photo_body_limit(2**20, 4)
        assert limit("POST", "/command/cases/7/act") == photo_body_limit(2**20, 4)
        assert limit("POST", "/api/cases/photos") == photo_body_limit(2**20, 1)
        assert limit("POST", "/m/tasks/7/act") == photo_body_limit(2**20, 1)
        assert limit("POST", "/data/upload") == 50 * 2**20
        assert limit("POST", "/track/abcdefgh/rate") == SMALL * 1024
        # a resident's form of 5 MiB (over four 1 MiB photos) is refused before it is read
        r = c.post("/report", content=b"x" * 5 * 2**20,
                   headers={"content-type": "multipart/form-data; boundary=b"})
        assert r.status_code == 413
        one = c.post("/api/cases/photos?lang=en", content=b"x" * (2 * 2**20),
                     headers={"content-type": "image/jpeg"})
        assert one.status_code == 413 and one.json()["code"] == "too_large"
