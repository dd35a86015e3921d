"""Users, role grants, API keys, departments and the hash-chained audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citygrowth.db import Base, UTCDateTime, utcnow


class Department(Base):
    """A government department (statistics bureau, urban management bureau …)."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: every web session carries the version it was started with; raising it (logout,
    #: password change, deactivation) ends every session of the user at once
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )


class RoleGrant(Base):
    """A role a user holds within an area (code prefix), optionally for one department."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("user_id", "role", "area_code", "department_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    area_code: Mapped[str] = mapped_column(String(15), ForeignKey("areas.code"))
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))

    user: Mapped[User] = relationship(back_populates="grants")


class ApiKey(Base):
    """A key for departments and machine clients; only its hash is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEntry(Base):
    """One line of the append-only audit log.

    ``entry_hash`` = SHA-256 over the previous entry's hash and this entry's canonical JSON, so
    editing or deleting any row breaks the chain from there on (``citygrowth audit verify``).
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(80), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)  # the chain cannot fork
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class LoginFailures(Base):
    """Failed logins counted per window, for the rate limits (shared by every web worker
    through the store): one row per user name and address (``n:``), per address (``a:``) and
    for everyone (``g:``), so the table stays as small as the set of those in use."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    last_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer, default=0)


__all__ = ["ApiKey", "AuditEntry", "Department", "LoginFailures", "RoleGrant", "User"]
