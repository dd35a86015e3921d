"""Tables of delivery to departments: each department's channels, the send record of every
delivery (its own state, apart from the case's) and the departments' in-app inbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from citygrowth.db import Base, UTCDateTime, utcnow

STATES = ("pending", "sent", "failed")


class DepartmentChannel(Base):
    """A channel through which a department receives its dispatched cases, besides the inbox:
    ``webhook`` (``target`` = URL, ``secret`` signs the body), ``email`` (``target`` = one or
    more addresses) or a plugin's channel (``target`` as that plugin documents)."""

    __tablename__ = "case_department_channels"
    __table_args__ = (UniqueConstraint("department_code", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    channel: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(500), default="")
    secret: Mapped[str] = mapped_column(String(128), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseDelivery(Base):
    """The send record of one case to one department through one channel (FixMyStreet's
    send state, kept apart from the case's state): pending → sent, or → failed once the
    attempts are used up; each failed attempt records its error and the next attempt."""

    __tablename__ = "case_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("case_events.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(30))
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    channel: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(12), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    receipt: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class InboxItem(Base):
    """A case in a department's in-app inbox; unread until an officer of it opens it."""

    __tablename__ = "case_inbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("case_deliveries.id", ondelete="CASCADE"),
                                             unique=True)
    action: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    read_by: Mapped[str] = mapped_column(String(80), default="")


__all__ = ["STATES", "CaseDelivery", "DepartmentChannel", "InboxItem"]
