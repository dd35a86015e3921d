"""Shapes of the auth API's requests and answers."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from citygrowth.auth.actor import Actor
from citygrowth.auth.models import ApiKey, AuditEntry, User
from citygrowth.inputs import InputModel, Line

USERNAME = r"^[A-Za-z0-9_.@-]{1,80}$"
AREA_CODE = r"^[0-9]{6}([0-9]{3}){0,3}$"
DEPARTMENT = r"^[A-Za-z0-9_.-]{1,40}$"


class GrantIn(InputModel):
    role: str = Field(max_length=40, description="One of the roles (see /api/auth/roles).")
    area_code: str = Field(pattern=AREA_CODE, description="Area code the role is scoped to.")
    department_code: str | None = Field(default=None, pattern=DEPARTMENT)


class UserIn(InputModel):
    username: str = Field(pattern=USERNAME)
    display_name: Line = Field(default="", max_length=120)
    password: str | None = Field(default=None, min_length=1, max_length=200,
                                 description="Leave out for machine clients (API key only).")
    grants: list[GrantIn] = Field(default_factory=list, max_length=20)


class PasswordIn(InputModel):
    password: str = Field(min_length=1, max_length=200)
    current_password: str | None = Field(
        default=None, max_length=200,
        description="Required when changing one's own password; not for a manager's reset.")


class ApiKeyIn(InputModel):
    name: Line = Field(default="", max_length=120)


class GrantOut(BaseModel):
    role: str
    area_code: str
    department_code: str | None = None


class UserOut(BaseModel):
    username: str
    display_name: str
    active: bool
    grants: list[GrantOut]
    last_login_at: dt.datetime | None = None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            username=user.username, display_name=user.display_name, active=user.active,
            last_login_at=user.last_login_at,
            grants=[GrantOut(role=g.role, area_code=g.area_code,
                             department_code=g.department_code) for g in user.grants],
        )


class MeOut(BaseModel):
    authenticated: bool
    username: str
    display_name: str
    grants: list[GrantOut]
    via_api_key: bool

    @classmethod
    def of(cls, actor: Actor) -> MeOut:
        return cls(
            authenticated=not actor.is_anonymous, username=actor.username,
            display_name=actor.display_name or actor.username,
            grants=[GrantOut(role=g.role, area_code=g.area_code,
                             department_code=g.department_code) for g in actor.grants],
            via_api_key=actor.api_key_id is not None,
        )


class ApiKeyOut(BaseModel):
    id: int
    prefix: str
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked: bool

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(id=key.id, prefix=key.prefix, name=key.name, created_at=key.created_at,
                   last_used_at=key.last_used_at, revoked=key.revoked)


class NewApiKeyOut(BaseModel):
    key: str = Field(description="The full key. It is shown only this once.")


class AuditEntryOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str
    detail: dict[str, object]
    entry_hash: str

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryOut:
        return cls(id=e.id, at=e.at, actor=e.actor, action=e.action, target=e.target,
                   detail=dict(e.detail or {}), entry_hash=e.entry_hash)


class AuditVerifyOut(BaseModel):
    ok: bool
    checked: int
    first_bad_id: int | None
    reason: str


class CsrfOut(BaseModel):
    csrf_token: str = Field(description="Send it as X-CSRF-Token with state-changing requests")


class RoleOut(BaseModel):
    role: str
    label: str = Field(description="In the caller's language")
    permissions: list[str]
