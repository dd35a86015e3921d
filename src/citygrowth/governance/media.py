"""Case photos: checked by their bytes, re-encoded, stored under random names, claimed once.

Every photo that reaches a case — a resident's report, a grid worker's patrol, a department's
处置反馈 (after-photo), a 核查 on site — comes through here:

* **Bounded before reading.** A route taking photos declares how many
  (``web.limits.photo_route``); the body-limit middleware refuses a larger body (over that
  many × ``photo_max_mb`` plus ``web.limits.FORM_OVERHEAD``) before a byte is read, and
  :func:`read_limited` reads with the same limit (``web.limits.photo_body_limit``), stopping
  one that grows past it; forms are parsed from the bytes read (:func:`parse_form`) with caps
  on files and fields, and their text fields obey the shared input rules (:func:`form_text`).
* **The type is taken from the bytes.** :func:`encode_photo` lets Pillow open only JPEG, PNG
  and WebP (and HEIC when ``pillow-heif`` is installed), refuses images above
  :data:`MAX_PIXELS`, turns the image upright and **re-encodes** it as JPEG into a fresh image:
  EXIF (GPS position included), ICC and comments are gone, and a polyglot file (an HTML page
  that is also a PNG) keeps nothing but its pixels. The longer side is scaled down to
  ``photo_max_side``; a thumbnail is made beside it. The client's file name and type are
  ignored.
* **Random names, one owner.** :func:`store_photo` writes ``<32 hex>.jpg`` and
  ``<32 hex>.thumb.jpg`` under ``<store_dir>/media/cases/`` (``shared_dir`` when set, else
  ``data_dir``: every host serves every photo) and records a :class:`CaseMedia` row owned by
  the uploader. A photo is referred to as ``/media/cases/<id>.jpg`` — the only form
  accepted anywhere a photo URL can be given (:func:`media_ids`): an outside URL
  (``https://…/track.gif``) or a ``javascript:`` URL is refused with a clear error. Only its
  owner can attach a photo not yet used (:func:`claim`), and only to one case.
* **Served to those who may see the case**: the routes decide who (``service.photo_readable``)
  and answer with :func:`photo_response` (``image/jpeg``, ``nosniff``, a sandboxing CSP).

Unused uploads older than a day and files that no row knows (a failed transaction) are removed
by :func:`remove_orphans` (the scheduled job ``cases.media_cleanup``).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import secrets
from collections.abc import AsyncGenerator, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import FileResponse

from citygrowth.auth.actor import Actor
from citygrowth.db import utcnow
from citygrowth.errors import CityGrowthError, Problem, ValidationFailed
from citygrowth.governance.models import CaseMedia
from citygrowth.i18n import N_
from citygrowth.inputs import text_problem
from citygrowth.settings import Settings
from citygrowth.web.limits import photo_body_limit

MEDIA_PATH = "/media/cases/"
REF = re.compile(r"^/media/cases/([0-9a-f]{32})\.jpg$")
FILE_NAME = re.compile(r"^([0-9a-f]{32})(\.thumb)?\.jpg$")
FORMATS = ("JPEG", "PNG", "WEBP")
MAX_PIXELS = 50_000_000  # 50 megapixels: more than any phone camera, far less than a bomb
THUMB_SIDE = 400
JPEG_QUALITY = 85
MAX_PHOTOS = 9  # per report or action (the API's limit; the resident form takes 4)
ORPHAN_AGE = dt.timedelta(hours=24)
FORM_FIELD_MAX = 64 * 1024

MSG_TOO_LARGE = N_("The upload is larger than {limit} MiB.")
MSG_NOT_IMAGE = N_("{name} is not a photo: send a JPEG, PNG or WebP image.")
MSG_UNREADABLE = N_("{name} could not be read as an image (damaged or cut short).")
MSG_TOO_MANY_PIXELS = N_("{name} has too many pixels (at most {limit} million).")
MSG_BAD_REF = N_("Photos are uploaded to this platform first (POST /api/cases/photos); give "
                 "the address it answered, /media/cases/….jpg — not {value}.")
MSG_NOT_YOURS = N_("Photo {value} was not uploaded by you, is already used on another case, "
                   "or no longer exists.")
MSG_TOO_MANY = N_("At most {n} photos.")


@dataclass(frozen=True)
class Limits:
    """How large an upload may be and how large the stored photo is."""

    max_bytes: int
    max_side: int
    thumb_side: int = THUMB_SIDE

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(settings.photo_max_mb * 1024 * 1024, settings.photo_max_side)

    @property
    def max_mb(self) -> int:
        return self.max_bytes // (1024 * 1024)


@dataclass(frozen=True)
class Encoded:
    """A photo as it is stored: the re-encoded JPEG, its thumbnail and its size."""

    full: bytes
    thumb: bytes
    width: int
    height: int


def too_large(limits: Limits) -> CityGrowthError:
    return CityGrowthError(MSG_TOO_LARGE, status=413, code="too_large", limit=limits.max_mb)


# --- reading uploads, bounded ----------------------------------------------------------------

async def read_limited(request: Request, limit: int, limits: Limits) -> bytes:
    """The request body, refused (413) before reading when its declared length is over
    ``limit`` and as soon as more than ``limit`` bytes have arrived."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise too_large(limits)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large(limits)
    return bytes(body)


async def _once(body: bytes) -> AsyncGenerator[bytes, None]:
    yield body
    yield b""


async def parse_form(headers: Headers, body: bytes, *, max_files: int,
                     max_fields: int = 40) -> FormData:
    """A url-encoded or multipart form from a body already read (and bounded)."""
    ctype = headers.get("content-type", "")
    try:
        if ctype.startswith("multipart/form-data"):
            return await MultiPartParser(headers, _once(body), max_files=max_files,
                                         max_fields=max_fields,
                                         max_part_size=FORM_FIELD_MAX).parse()
        if ctype.startswith("application/x-www-form-urlencoded"):
            return await FormParser(headers, _once(body)).parse()
    except MultiPartException as exc:
        raise ValidationFailed("The form could not be read: {detail}", detail=exc.message) \
            from exc
    raise CityGrowthError("Send the form as multipart/form-data.", status=415,
                          code="unsupported_media_type")


async def form_photos(form: FormData, name: str, limit: int) -> list[tuple[str, bytes]]:
    """(file name, bytes) of the non-empty files of field ``name``; at most ``limit``."""
    files = [f for f in form.getlist(name) if isinstance(f, UploadFile) and f.filename]
    if len(files) > limit:
        raise ValidationFailed(problems=[Problem(MSG_TOO_MANY, {"n": limit}, field=name)])
    out = []
    for f in files:
        data = await f.read()
        if data:
            out.append(((f.filename or "photo")[:80], data))
    return out


async def photo_form(request: Request, limits: Limits, max_photos: int,
                     field: str = "photo") -> tuple[FormData, list[Encoded]]:
    """A page form with up to ``max_photos`` photos in ``field``: the body bounded before
    reading, then each photo checked and re-encoded off the event loop."""
    body = await read_limited(request, photo_body_limit(limits.max_bytes, max_photos), limits)
    form = await parse_form(request.headers, body, max_files=max_photos + 1)
    photos = []
    for name, data in await form_photos(form, field, max_photos):
        photos.append(await run_in_threadpool(encode_photo, data, limits, name))
    return form, photos


def form_text(form: FormData, name: str, max_length: int, *, line: bool = False) -> str:
    """A text field of a form (``""`` when absent), refused when longer than allowed or when it
    breaks the shared text rules (``citygrowth.inputs``: no control characters — none at all
    in a ``line`` —, no lone surrogates)."""
    value = form.get(name)
    text = value if isinstance(value, str) else ""
    if len(text) > max_length:
        raise ValidationFailed(problems=[Problem(N_("At most {n} characters."),
                                                 {"n": max_length}, field=name)])
    problem = text_problem(name, text, line=line)
    if problem is not None:
        raise ValidationFailed(problems=[problem])
    return text


# --- checking and re-encoding ------------------------------------------------------------------

def _heif_formats() -> tuple[str, ...]:
    """HEIF/HEIC when ``pillow-heif`` is installed (optional), else nothing."""
    try:
        import pillow_heif  # lazy: optional dependency
    except ImportError:
        return ()
    pillow_heif.register_heif_opener()
    return ("HEIF",)


def encode_photo(data: bytes, limits: Limits, name: str = "photo") -> Encoded:
    """Check ``data`` by its bytes and re-encode it (see the module's docstring). CPU-bound:
    call it off the event loop. Raises :class:`ValidationFailed` naming ``name``."""
    if len(data) > limits.max_bytes:
        raise too_large(limits)
    problem = {"name": name}
    try:
        im = Image.open(io.BytesIO(data), formats=[*FORMATS, *_heif_formats()])
    except UnidentifiedImageError as exc:
        raise ValidationFailed(problems=[Problem(MSG_NOT_IMAGE, problem, field="photo")]) \
            from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(name) from exc
    except (OSError, ValueError, SyntaxError) as exc:  # a header cut short
        raise ValidationFailed(problems=[Problem(MSG_UNREADABLE, problem, field="photo")]) \
            from exc
    if im.width * im.height > MAX_PIXELS:
        raise _too_many_pixels(name)
    try:
        if im.format == "JPEG":  # decode at a reduced scale when that is enough (fast)
            im.draft("RGB", (limits.max_side, limits.max_side))
        im.seek(0)  # the first frame of an animation
        im.load()
        upright = ImageOps.exif_transpose(im)
        clean = _flatten(upright)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValidationFailed(problems=[Problem(MSG_UNREADABLE, problem, field="photo")]) \
            from exc
    clean.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
    thumb = clean.copy()
    thumb.thumbnail((limits.thumb_side, limits.thumb_side), Image.Resampling.LANCZOS)
    return Encoded(_jpeg(clean), _jpeg(thumb), clean.width, clean.height)


def _too_many_pixels(name: str) -> ValidationFailed:
    return ValidationFailed(problems=[Problem(MSG_TOO_MANY_PIXELS, {
        "name": name, "limit": MAX_PIXELS // 1_000_000}, field="photo")])


def _flatten(im: Image.Image) -> Image.Image:
    """A new RGB image holding only the pixels (transparency on white): nothing of the
    source file's metadata or trailing bytes comes along."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        out = Image.new("RGB", rgba.size, (255, 255, 255))
        out.paste(rgba, mask=rgba.getchannel("A"))
        return out
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        im = im.point(lambda v: v / 256).convert("L")  # 16-bit and float greys
    out = Image.new("RGB", im.size)
    out.paste(im.convert("RGB"))
    return out


def _jpeg(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return buf.getvalue()


# --- storing -------------------------------------------------------------------------------

def media_folder(store_dir: Path) -> Path:
    return Path(store_dir) / "media" / "cases"


def owner_of(actor: Actor) -> str:
    """Who may attach an upload: the user (API key or session), else the public form."""
    if actor.is_system:
        return "system"
    return f"user:{actor.user_id}" if actor.user_id is not None else "public"


def ref_of(media_id: str) -> str:
    return f"{MEDIA_PATH}{media_id}.jpg"


def thumb_ref(ref: str) -> str:
    """``/media/cases/<id>.thumb.jpg`` for ``/media/cases/<id>.jpg``."""
    return ref[:-4] + ".thumb.jpg" if ref.endswith(".jpg") else ref


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def store_photo(session: Session, store_dir: Path, photo: Encoded, owner: str,
                now: dt.datetime | None = None) -> CaseMedia:
    """Write the photo and its thumbnail under a random name; record it, unattached."""
    folder = media_folder(store_dir)
    folder.mkdir(parents=True, exist_ok=True)
    media_id = secrets.token_hex(16)
    _write(folder / f"{media_id}.jpg", photo.full)
    _write(folder / f"{media_id}.thumb.jpg", photo.thumb)
    row = CaseMedia(id=media_id, case_id=None, stage="", owner=owner[:80],
                    content_type="image/jpeg", width=photo.width, height=photo.height,
                    size=len(photo.full), uploaded_at=now or utcnow())
    session.add(row)
    session.flush()
    return row


# --- references ----------------------------------------------------------------------------

def media_id(ref: str) -> str | None:
    """The media id of one of our photo references — ``/media/cases/<id>.jpg``, also as an
    absolute URL of this platform (any host or mount prefix) — else None."""
    if not isinstance(ref, str) or len(ref) > 500:
        return None
    parts = urlsplit(ref.strip())
    if parts.scheme not in ("", "http", "https") or parts.query or parts.fragment:
        return None
    if not parts.scheme and parts.netloc:
        return None
    path = parts.path
    at = path.rfind(MEDIA_PATH)
    m = REF.match(path[at:]) if at >= 0 else None
    return m.group(1) if m else None


def media_ids(refs: Sequence[str], field: str = "photos") -> list[str]:
    """The media ids of ``refs``, or :class:`ValidationFailed` naming each one refused."""
    if len(refs) > MAX_PHOTOS:
        raise ValidationFailed(problems=[Problem(MSG_TOO_MANY, {"n": MAX_PHOTOS}, field=field)])
    ids, problems = [], []
    for i, ref in enumerate(refs):
        mid = media_id(ref)
        if mid is None:
            problems.append(Problem(MSG_BAD_REF, {"value": str(ref)[:120]}, field=f"{field}.{i}",
                                    value=str(ref)[:120]))
        else:
            ids.append(mid)
    if problems:
        raise ValidationFailed(problems=problems)
    return list(dict.fromkeys(ids))


def unusable(session: Session, ids: Iterable[str], owner: str,
             case_id: int | None = None) -> list[str]:
    """Of ``ids``, those the owner may not attach (to ``case_id``): unknown, someone else's
    unused upload, or already used on another case."""
    wanted = list(ids)
    if not wanted:
        return []
    rows = {r.id: r for r in session.execute(
        select(CaseMedia.id, CaseMedia.case_id, CaseMedia.owner)
        .where(CaseMedia.id.in_(wanted)))}
    bad = []
    for mid in wanted:
        row = rows.get(mid)
        ok = row is not None and (
            (row.case_id is None and row.owner == owner)
            or (case_id is not None and row.case_id == case_id))
        if not ok:
            bad.append(mid)
    return bad


def check_usable(session: Session, refs: Sequence[str], owner: str,
                 case_id: int | None = None, field: str = "photos") -> list[str]:
    """The normalised references (``/media/cases/<id>.jpg``) of ``refs`` when the owner may
    attach them all, else :class:`ValidationFailed`."""
    ids = media_ids(refs, field)
    bad = unusable(session, ids, owner, case_id)
    if bad:
        raise ValidationFailed(problems=[Problem(MSG_NOT_YOURS, {"value": ref_of(b)},
                                                 field=field, value=ref_of(b)) for b in bad])
    return [ref_of(i) for i in ids]


def attach(session: Session, case_id: int, refs: Sequence[str], stage: str) -> None:
    """Mark the (checked) photos as the case's, at ``stage`` (``report``, ``handle`` …)."""
    ids = [i for r in refs if (i := media_id(r))]
    if ids:
        session.execute(update(CaseMedia).where(CaseMedia.id.in_(ids),
                                                CaseMedia.case_id.is_(None))
                        .values(case_id=case_id, stage=stage[:30]))


def claim(session: Session, refs: Sequence[str], *, owner: str, case_id: int,
          stage: str) -> list[str]:
    """Check and attach ``refs`` to a case in one go; returns the normalised references."""
    normal = check_usable(session, refs, owner, case_id)
    attach(session, case_id, normal, stage)
    return normal


# --- serving and cleaning ------------------------------------------------------------------

def file_for(store_dir: Path, name: str) -> tuple[str, Path] | None:
    """(media id, file path) of a served name ``<id>.jpg`` or ``<id>.thumb.jpg``."""
    m = FILE_NAME.match(name)
    if m is None:
        return None
    path = media_folder(store_dir) / name
    return (m.group(1), path) if path.is_file() else None


def photo_response(path: Path) -> FileResponse:
    """A stored photo, typed by what it is (we wrote it) and never sniffed or run."""
    return FileResponse(path, media_type="image/jpeg", headers={
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=3600",
        "Content-Disposition": "inline",
    })


def remove_orphans(session: Session, store_dir: Path, now: dt.datetime | None = None,
                   age: dt.timedelta = ORPHAN_AGE) -> int:
    """Delete uploads never attached within ``age``, and files no row knows once they are an
    hour old (younger ones may belong to a transaction still running) or left half-written.
    Returns how many photos went."""
    now = now or utcnow()
    stale = set(session.scalars(select(CaseMedia.id).where(
        CaseMedia.case_id.is_(None), CaseMedia.uploaded_at < now - age)))
    known = set(session.scalars(select(CaseMedia.id))) - stale
    if stale:
        session.execute(delete(CaseMedia).where(CaseMedia.id.in_(stale)))
    folder = media_folder(store_dir)
    removed = set()
    cutoff = now.timestamp() - 3600
    for path in sorted(folder.glob("*")) if folder.is_dir() else ():
        m = FILE_NAME.match(path.name)
        old = path.stat().st_mtime < cutoff
        if m is None:
            if path.suffix == ".tmp" and old:
                path.unlink(missing_ok=True)
            continue
        mid = m.group(1)
        if mid in stale or (mid not in known and old):
            path.unlink(missing_ok=True)
            removed.add(mid)
    return len(removed | stale)
