"""Evidence for target progress: photos and documents, size-limited and type-checked.

Files are stored under ``settings.data_dir / "uploads" / "accountability"`` named by their
SHA-256, so the same file uploaded twice is stored once. The declared extension must match
the file's leading bytes (a renamed executable is refused).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy.orm import Session

from citygrowth.accountability.common import get_or_404
from citygrowth.accountability.models import Evidence, ProgressReport, Target
from citygrowth.accountability.targets import require_owner
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import require
from citygrowth.errors import CityGrowthError, NotFound, Problem, ValidationFailed
from citygrowth.i18n import N_, _
from citygrowth.settings import Settings

# extension → (content type, accepted leading bytes)
ALLOWED: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              (b"PK\x03\x04",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              (b"PK\x03\x04",)),
}


class UploadTooLarge(CityGrowthError):
    status = 413
    code = "too_large"
    message = "The file is larger than {limit} MiB."


def upload_dir(settings: Settings) -> Path:
    return settings.store_dir / "uploads" / "accountability"


def check_upload(filename: str, data: bytes, max_mb: int) -> str:
    """The content type of an acceptable upload; raises for a wrong type, size or empty file."""
    if len(data) > max_mb * 1024 * 1024:
        raise UploadTooLarge(limit=max_mb)
    ext = Path(filename).suffix.lower()
    if ext not in ALLOWED:
        raise ValidationFailed(problems=[Problem(
            N_("Files of type '{ext}' are not accepted (allowed: {allowed})."),
            {"ext": ext or "-", "allowed": ", ".join(sorted(ALLOWED))}, file=filename,
            field="file")])
    ctype, magics = ALLOWED[ext]
    if not data or not any(data.startswith(m) for m in magics):
        raise ValidationFailed(problems=[Problem(
            N_("The file's content does not match its type '{ext}'."), {"ext": ext},
            file=filename, field="file")])
    return ctype


def add_evidence(session: Session, settings: Settings, actor: Actor, target_id: int,
                 filename: str, data: bytes, report_id: int | None = None) -> Evidence:
    """Attach a file or photo to a target (and optionally one of its reports)."""
    target = get_or_404(session, Target, target_id, N_("Accountability target"))
    require_owner(actor, "target.report", target)
    if report_id is not None:
        report = session.get(ProgressReport, report_id)
        if report is None or report.target_id != target.id:
            raise NotFound("{what} {key} was not found.", what=_("Progress report"),
                           key=report_id)
    ctype = check_upload(filename, data, settings.max_upload_mb)
    digest = hashlib.sha256(data).hexdigest()
    stored = digest + Path(filename).suffix.lower()
    folder = upload_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / stored
    if not path.exists():
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    safe_name = Path(filename).name[:255]
    ev = Evidence(target_id=target.id, report_id=report_id, filename=safe_name,
                  stored_name=stored, content_type=ctype, size_bytes=len(data), sha256=digest,
                  uploaded_by=actor.username)
    session.add(ev)
    session.flush()
    record(session, actor, "target.evidence", f"target:{target.code}",
           {"file": safe_name, "sha256": digest})
    return ev


def evidence_file(session: Session, settings: Settings, actor: Actor,
                  evidence_id: int) -> tuple[Evidence, Path]:
    require(actor, "accountability.view", None)
    ev = get_or_404(session, Evidence, evidence_id, N_("Evidence"))
    target = session.get(Target, ev.target_id)
    require(actor, "accountability.view", {"area_code": target.area_code if target else None})
    path = upload_dir(settings) / ev.stored_name
    if not path.exists():
        raise NotFound("{what} {key} was not found.", what=_("Evidence"), key=evidence_id)
    return ev, path


def list_evidence(session: Session, target_id: int) -> list[Evidence]:
    return list(session.query(Evidence).filter(Evidence.target_id == target_id)
                .order_by(Evidence.id))
