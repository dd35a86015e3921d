"""Governance tables: the case taxonomy, components, dispatch rules, cases and their events,
helpers and help tasks.

A :class:`Case` row holds the current state (a projection kept for fast queries); its history
is the append-only list of :class:`CaseEvent` rows written by ``lifecycle.transition`` only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from citygrowth.db import Base, UTCDateTime, utcnow

KINDS = ("component", "event")
# the statuses of a case still in the loop (``lifecycle.OPEN``), as SQL for the partial index
OPEN_STATUSES = ("dispatched", "handled", "handling", "postponed", "registered", "reported",
                 "verified")
OPEN_SQL = ", ".join(f"'{s}'" for s in OPEN_STATUSES)


def open_term(implied: bool = False) -> Any:
    """``cases.status IN (<open statuses>)`` with the values written into the SQL, so that
    SQLite and PostgreSQL match it to the partial index ``ix_cases_open``.

    ``implied=True`` where another term already keeps to open statuses (``status IN
    (<running>)``): the term then matters to SQLite only, which uses a partial index only when
    the query repeats its ``IN`` term, and is left out on PostgreSQL, which proves the index's
    condition from the narrower term itself and whose planner would count the repeated
    condition twice (at 10M cases it then estimated 43 overdue cases for 10,492, sorted them
    all and took 27 ms where reading the index backwards takes 0.2 ms)."""
    if implied:
        return _OpenIndexTerm()
    return Case.status.in_(bindparam("open_statuses", list(OPEN_STATUSES), expanding=True,
                                     literal_execute=True))


class _OpenIndexTerm(ColumnElement[bool]):
    """:func:`open_term` for SQLite's partial-index matching only (see there)."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition already: no "= 1" where booleans are integers


@compiles(_OpenIndexTerm)
def _open_index_term(element: _OpenIndexTerm, compiler: Any, **kw: Any) -> str:
    return "1 = 1"


@compiles(_OpenIndexTerm, "sqlite")
def _open_index_term_sqlite(element: _OpenIndexTerm, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(open_term(), **kw))


class CaseCategory(Base):
    """A 大类 (no parent) or 小类 of 部件 (components) or 事件 (events)."""

    __tablename__ = "case_categories"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    parent_code: Mapped[str | None] = mapped_column(
        String(20), ForeignKey("case_categories.code"), index=True
    )
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    time_limit_hours: Mapped[float | None] = mapped_column(Float)
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the department's 处置反馈 must carry a photo of the result (here or on the 大类)
    after_photo_required: Mapped[bool] = mapped_column(Boolean, default=False)


class Component(Base):
    """A registered urban component (部件): 16-digit id = 6 admin + 2 大类 + 2 小类 + 6 serial."""

    __tablename__ = "case_components"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("case_categories.code"), index=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), default="intact")
    owner_department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)


class DispatchRule(Base):
    """category × area → department (and street). The most specific matching rule wins."""

    __tablename__ = "case_dispatch_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("case_categories.code"))
    area_prefix: Mapped[str] = mapped_column(String(15), default="")
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(300), default="")


class Case(Base):
    """A grid case (one report through its whole closed loop)."""

    __tablename__ = "cases"
    # Open cases are a small share of all (tens of thousands in ten million): a partial
    # index holds them newest first with what the queues, their counts, escalation and
    # duplicate checks filter on. A query uses it when it carries the same term, written
    # with literal values (:func:`open_term`); without a plain status or deadline index no
    # planner prefers a scan of every case by status, or of every deadline from the oldest
    # (PostgreSQL's generic plan for min(due_at) of the running cases did: seconds at 10M).
    __table_args__ = (Index("ix_cases_open", "reported_at", "id", "status", "area_code",
                            "department_code", "due_at", "warn_at", "supervised",
                            "category_code", "lat", "lon",
                            sqlite_where=text(f"status IN ({OPEN_SQL})"),
                            postgresql_where=text(f"status IN ({OPEN_SQL})")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("case_categories.code"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    component_id: Mapped[str | None] = mapped_column(String(16))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    department_code: Mapped[str | None] = mapped_column(
        ForeignKey("departments.code"), index=True
    )
    status: Mapped[str] = mapped_column(String(20))
    pending: Mapped[str | None] = mapped_column(String(20))
    pending_hours: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reporter_user_id: Mapped[int | None] = mapped_column(Integer)
    reporter_contact: Mapped[str] = mapped_column(String(200), default="")
    device_id: Mapped[str] = mapped_column(String(100), default="")
    account_id: Mapped[str] = mapped_column(String(100), default="")
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # in ix_cases_open
    warn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    limit_hours: Mapped[float | None] = mapped_column(Float)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)


class CaseCount(Base):
    """How many cases of an area are in a status or a flag queue (``bucket``: a status,
    ``+supervised`` or ``+pending``): its own cases (``own`` 1) and those of the areas below
    it (``own`` 0), kept by database triggers (``governance.counts``)."""

    __tablename__ = "case_counts"

    area_code: Mapped[str] = mapped_column(String(15), primary_key=True)
    own: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bucket: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class CaseDepartmentCount(Base):
    """As :class:`CaseCount`, per assigned department (what a department officer sees), for
    each area's own cases only."""

    __tablename__ = "case_department_counts"

    department_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    area_code: Mapped[str] = mapped_column(String(15), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class CaseEvent(Base):
    """One immutable step of a case's history (who, when, from, to, action, note, photos)."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CaseMedia(Base):
    """A photo kept for a case: re-encoded JPEG (and thumbnail) under the data folder, named
    by its random ``id``. Uploaded first (``case_id`` empty, only its ``owner`` may use it),
    then attached to a case at one ``stage`` of its loop (``report``, ``handle``, ``verify``
    …); served only to readers allowed to see that case (``governance.media``)."""

    __tablename__ = "case_media"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                                index=True)
    stage: Mapped[str] = mapped_column(String(30), default="")
    owner: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(40), default="image/jpeg")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Helper(Base):
    """A party member (党员) or volunteer (志愿者) registered in a grid cell."""

    __tablename__ = "case_helpers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # party_member | volunteer
    label: Mapped[str] = mapped_column(String(120))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    registered_by: Mapped[str] = mapped_column(String(80), default="")


class HelpTask(Base):
    """A help task (帮办) in a grid cell: open → taken → done, with hours logged."""

    __tablename__ = "case_help_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="open")
    helper_id: Mapped[int | None] = mapped_column(ForeignKey("case_helpers.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    hours: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    taken_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    skill: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(80), default="")


__all__ = [
    "KINDS", "Case", "CaseCategory", "CaseEvent", "CaseMedia", "Component", "DispatchRule",
    "HelpTask", "Helper",
]
