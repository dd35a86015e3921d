"""Make, archive, list and read briefings.

Files of a briefing go to ``data_dir/exports/briefings/<area>/<month>/<locale>/``:
``briefing.json`` (key figures, sentences, figures with their queries, sources, chart numbers),
``briefing.pdf``, ``briefing.docx`` and ``chart-<name>.png`` (the images in both); a row in
``analysis_briefings`` records it. Making the same briefing again replaces it; each file is
written to a temporary name first and then renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.analysis.briefing.charts import CHART_ORDER
from citygrowth.analysis.briefing.compose import BriefingInputs
from citygrowth.analysis.briefing.export import images_for, to_docx, to_pdf
from citygrowth.analysis.briefing.gather import gather
from citygrowth.analysis.briefing.model import Briefing
from citygrowth.analysis.briefing.sections import compose
from citygrowth.analysis.briefing.sources import briefing_dict
from citygrowth.analysis.models import BriefingRecord
from citygrowth.areas.models import Area
from citygrowth.auth.actor import Actor
from citygrowth.auth.audit import record
from citygrowth.auth.permissions import require, scope_prefixes
from citygrowth.db import utcnow
from citygrowth.errors import NotFound, ValidationFailed
from citygrowth.i18n import bilingual, normalise_locale
from citygrowth.periods import Period
from citygrowth.runtime import Runtime

FORMATS = ("json", "pdf", "docx")


def archive_root(runtime: Runtime) -> Path:
    return runtime.settings.store_dir / "exports" / "briefings"


def _check(month: str, locale: str, formats: tuple[str, ...]) -> tuple[str, str]:
    m = Period.parse(month)
    if m.freq != "M":
        raise ValidationFailed("A briefing month looks like 2026-10.", code="bad_month")
    loc = normalise_locale(locale)
    if loc is None:
        raise ValidationFailed("Unknown language '{locale}'.", code="bad_locale", locale=locale)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValidationFailed("Unknown format '{format}'.", code="bad_format", format=bad[0])
    return str(m), loc


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_files(b: Briefing, folder: Path, locale: str, formats: tuple[str, ...]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    images = images_for(b, locale)
    for name, png in images.items():
        _write(folder / f"chart-{name}.png", png)
    data = briefing_dict(b, locale)
    data["images"] = list(images)
    _write(folder / "briefing.json", json.dumps(data, ensure_ascii=False, indent=1).encode())
    written.append("json")
    if "pdf" in formats:
        _write(folder / "briefing.pdf", to_pdf(b, locale, images))
        written.append("pdf")
    if "docx" in formats:
        _write(folder / "briefing.docx", to_docx(b, locale, images))
        written.append("docx")
    return written


def make_briefing(session: Session, actor: Actor, runtime: Runtime, area_code: str,
                  month: str, locale: str = "zh_CN", formats: tuple[str, ...] = FORMATS,
                  inputs: BriefingInputs | None = None) -> BriefingRecord:
    """Compose, export and archive the briefing of an area for a month (``inputs`` given:
    use those numbers instead of gathering them from the system)."""
    require(actor, "analysis.briefing", area_code)
    month, loc = _check(month, locale, formats)
    if inputs is None:
        inputs = gather(session, runtime, area_code, month)
    b = compose(inputs)
    folder = archive_root(runtime) / area_code / month / loc
    written = write_files(b, folder, loc, formats)
    rec = session.scalar(select(BriefingRecord).where(
        BriefingRecord.area_code == area_code, BriefingRecord.month == month,
        BriefingRecord.locale == loc))
    if rec is None:
        rec = BriefingRecord(area_code=area_code, month=month, locale=loc)
        session.add(rec)
    rec.folder = str(folder)
    rec.formats = written
    rec.vintage = b.vintage[:60]
    rec.figure_count = len(b.figures)
    rec.sentence_count = len(b.sentences)
    rec.created_by = actor.username
    rec.created_at = utcnow()
    session.flush()
    record(session, actor, "analysis.briefing", f"briefing:{area_code}:{month}:{loc}",
           {"figures": rec.figure_count, "formats": written})
    return rec


def make_briefings(session: Session, actor: Actor, runtime: Runtime, area_code: str,
                   month: str, locales: tuple[str, ...] = ("zh_CN", "en"),
                   formats: tuple[str, ...] = FORMATS) -> list[BriefingRecord]:
    """The briefing of an area for a month in each of ``locales``, from one gathering of
    its numbers."""
    require(actor, "analysis.briefing", area_code)
    for loc in locales:
        _check(month, loc, formats)
    inputs = gather(session, runtime, area_code, str(Period.parse(month)))
    return [make_briefing(session, actor, runtime, area_code, month, loc, formats, inputs)
            for loc in locales]


def areas_to_brief(session: Session, actor: Actor, district: str) -> list[tuple[str, str]]:
    """(code, name) of the district and its streets that ``actor`` may make briefings for."""
    rows = session.execute(select(Area.code, Area.name_zh, Area.name_en).where(
        (Area.code == district) | (Area.parent_code == district)).order_by(Area.code)).all()
    prefixes = scope_prefixes(actor, "analysis.briefing")
    return [(code, bilingual(zh, en)) for code, zh, en in rows
            if prefixes is None or any(code.startswith(p) for p in prefixes)]


def list_briefings(session: Session, actor: Actor) -> list[BriefingRecord]:
    require(actor, "analysis.view")
    rows = session.scalars(select(BriefingRecord).order_by(
        BriefingRecord.month.desc(), BriefingRecord.area_code, BriefingRecord.locale)).all()
    prefixes = scope_prefixes(actor, "analysis.view")
    return [r for r in rows if prefixes is None
            or any(r.area_code.startswith(p) for p in prefixes)]


def get_briefing(session: Session, actor: Actor, briefing_id: int) -> BriefingRecord:
    rec = session.get(BriefingRecord, briefing_id)
    require(actor, "analysis.view", rec.area_code if rec else None)
    if rec is None:
        raise NotFound("No briefing with id {id}.", id=briefing_id)
    return rec


def briefing_json(rec: BriefingRecord) -> dict[str, Any]:
    path = Path(rec.folder) / "briefing.json"
    if not path.exists():
        raise NotFound("The files of this briefing are missing; make it again.")
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    data["id"] = rec.id
    data["formats"] = list(rec.formats)
    return data


def briefing_file(rec: BriefingRecord, fmt: str) -> Path:
    if fmt not in rec.formats or fmt not in FORMATS:
        raise NotFound("This briefing has no {format} file.", format=fmt)
    path = Path(rec.folder) / f"briefing.{fmt}"
    if not path.exists():
        raise NotFound("The files of this briefing are missing; make it again.")
    return path


CHART_NAME = re.compile(r"^[a-z]{1,20}$")


def briefing_chart(rec: BriefingRecord, name: str) -> Path:
    """The PNG of one chart of a briefing (the image in its PDF and DOCX)."""
    if name not in CHART_ORDER or not CHART_NAME.match(name):
        raise NotFound("This briefing has no chart '{name}'.", name=name)
    path = Path(rec.folder) / f"chart-{name}.png"
    if not path.exists():
        raise NotFound("This briefing has no chart '{name}'.", name=name)
    return path
