"""Auth actions: users, role grants, API keys and the audit log.

Every action takes ``(session, actor, …)``, checks ``user.manage`` first and writes an audit
entry in the same transaction. Logging in is in ``auth/login.py``; web sessions in
``auth/sessions.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citygrowth.areas.models import Area
from citygrowth.auth import audit
from citygrowth.auth.actor import ROLES, Actor
from citygrowth.auth.identity import new_api_key
from citygrowth.auth.models import ApiKey, AuditEntry, Department, RoleGrant, User
from citygrowth.auth.passwords import hash_password, password_problems, verify_password
from citygrowth.auth.permissions import can, require, scope_prefixes
from citygrowth.auth.sessions import end_sessions
from citygrowth.errors import Conflict, Forbidden, NotFound, Problem, ValidationFailed

MANAGE = "user.manage"
#: the roles docs/auth.md gives API keys to: data officers pushing loads, machine clients
API_KEY_ROLES = ("department_officer", "machine")


@dataclass(frozen=True)
class GrantInput:
    """A role to give within an area (code prefix), optionally for one department."""

    role: str
    area_code: str
    department_code: str | None = None


# --- helpers ------------------------------------------------------------------------------------

def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("There is no user '{username}'.", username=username)
    return user


def _require_scope(actor: Actor, user: User) -> None:
    """The actor must hold ``user.manage`` over every area the user is granted in."""
    for g in user.grants:
        if not can(actor, MANAGE, g.area_code):
            raise Forbidden(
                "You may not manage user '{username}': they hold a role outside your areas.",
                username=user.username,
            )


def _not_self(actor: Actor, user: User) -> None:
    """Nobody changes their own roles or deactivates themselves (ask another manager)."""
    if actor.user_id is not None and user.id == actor.user_id:
        raise Conflict("You cannot change your own roles or deactivate yourself.")


def _check_password(password: str, username: str, display_name: str = "") -> None:
    problems = password_problems(password, username, display_name)
    if problems:
        raise ValidationFailed(problems=problems)


def _check_grant(session: Session, grant: GrantInput) -> None:
    problems: list[Problem] = []
    if grant.role not in ROLES:
        problems.append(Problem(
            message="Unknown role '{role}'; use one of: {roles}.",
            params={"role": grant.role, "roles": ", ".join(ROLES)}, field="role",
            value=grant.role,
        ))
    if session.get(Area, grant.area_code) is None:
        problems.append(Problem(
            message="There is no area with code '{code}'.", params={"code": grant.area_code},
            field="area_code", value=grant.area_code,
        ))
    if grant.department_code and session.get(Department, grant.department_code) is None:
        problems.append(Problem(
            message="There is no department '{code}'.", params={"code": grant.department_code},
            field="department_code", value=grant.department_code,
        ))
    if grant.role == "department_officer" and not grant.department_code:
        problems.append(Problem(
            message="A department officer needs a department.", field="department_code",
        ))
    if problems:
        raise ValidationFailed(problems=problems)


# --- users --------------------------------------------------------------------------------------

def create_user(
    session: Session,
    actor: Actor,
    username: str,
    grants: Sequence[GrantInput],
    password: str | None = None,
    display_name: str = "",
) -> User:
    """Create a user holding ``grants``; machine clients may have no password."""
    require(actor, MANAGE)
    for grant in grants:
        require(actor, MANAGE, grant.area_code)
        _check_grant(session, grant)
    username = username.strip()
    if not username or len(username) > 80 or any(c.isspace() for c in username):
        raise ValidationFailed(problems=[Problem(
            message="A user name is 1 to 80 characters without spaces.", field="username",
            value=username,
        )])
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("The user name '{username}' is taken.", username=username)
    if password is not None:
        _check_password(password, username, display_name)
    user = User(username=username, display_name=display_name or username,
                password_hash=hash_password(password) if password else None)
    for g in grants:
        user.grants.append(RoleGrant(role=g.role, area_code=g.area_code,
                                     department_code=g.department_code or None))
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", f"user:{username}",
                 {"grants": [g.__dict__ for g in grants]})
    return user


def set_password(session: Session, actor: Actor, username: str, password: str,
                 current_password: str | None = None) -> int:
    """Set a user's password: the user's own change (``current_password`` required and
    checked) or an administrator's reset. Every session of the user ends; returns the new
    session version (so the web route can keep the changing user's own session)."""
    user = get_user(session, username)
    if actor.user_id == user.id and not actor.is_system:
        if not current_password or not verify_password(user.password_hash, current_password):
            raise ValidationFailed(problems=[Problem(message="The current password is wrong.",
                                                     field="current_password")])
    else:
        require(actor, MANAGE)
        _require_scope(actor, user)
    _check_password(password, user.username, user.display_name)
    user.password_hash = hash_password(password)
    version = end_sessions(user)
    audit.record(session, actor, "user.set_password", f"user:{username}",
                 {"sessions_ended": True})
    return version


def grant_role(session: Session, actor: Actor, username: str, grant: GrantInput) -> RoleGrant:
    require(actor, MANAGE, grant.area_code)
    _check_grant(session, grant)
    user = get_user(session, username)
    _not_self(actor, user)
    for g in user.grants:
        if (g.role, g.area_code, g.department_code) == (
                grant.role, grant.area_code, grant.department_code or None):
            raise Conflict("User '{username}' already holds this role here.", username=username)
    rg = RoleGrant(role=grant.role, area_code=grant.area_code,
                   department_code=grant.department_code or None)
    user.grants.append(rg)
    session.flush()
    audit.record(session, actor, "user.grant", f"user:{username}", dict(grant.__dict__))
    return rg


def revoke_role(session: Session, actor: Actor, username: str, grant: GrantInput) -> None:
    require(actor, MANAGE, grant.area_code)
    user = get_user(session, username)
    _not_self(actor, user)
    match = [g for g in user.grants if (g.role, g.area_code, g.department_code) == (
        grant.role, grant.area_code, grant.department_code or None)]
    if not match:
        raise NotFound("User '{username}' does not hold this role here.", username=username)
    user.grants.remove(match[0])
    session.flush()
    audit.record(session, actor, "user.revoke", f"user:{username}", dict(grant.__dict__))


def deactivate(session: Session, actor: Actor, username: str) -> None:
    """Stop a user from logging in or using their API keys (the record stays)."""
    require(actor, MANAGE)
    user = get_user(session, username)
    _require_scope(actor, user)
    _not_self(actor, user)
    user.active = False
    end_sessions(user)
    audit.record(session, actor, "user.deactivate", f"user:{username}")


def end_own_sessions(session: Session, actor: Actor) -> None:
    """Log out: end every web session of the acting user (every device, copied cookies too)."""
    if actor.user_id is None:
        return
    user = session.get(User, actor.user_id)
    if user is not None:
        end_sessions(user)
        audit.record(session, actor, "auth.logout", f"user:{actor.username}",
                     {"sessions_ended": True})


def list_users(session: Session, actor: Actor) -> list[User]:
    """Users the actor may manage: those with a role inside the actor's areas.

    Users holding no role at all are listed to district-wide managers only.
    """
    require(actor, MANAGE)
    users = list(session.scalars(select(User).order_by(User.username)))
    prefixes = scope_prefixes(actor, MANAGE)
    if prefixes is None:
        return users
    district_wide = any(len(p) <= 6 for p in prefixes)

    def visible(u: User) -> bool:
        if not u.grants:
            return district_wide
        return any(g.area_code.startswith(p) for g in u.grants for p in prefixes)

    return [u for u in users if visible(u)]


# --- API keys -----------------------------------------------------------------------------------

def create_api_key(session: Session, actor: Actor, username: str, name: str = "") -> str:
    """A new key for ``username`` (a department officer or a machine client), shown once."""
    require(actor, MANAGE)
    user = get_user(session, username)
    _require_scope(actor, user)
    if not user.active:
        raise Conflict("User '{username}' is deactivated.", username=username)
    if not any(g.role in API_KEY_ROLES for g in user.grants):
        raise Conflict("API keys are for department officers and machine clients; "
                       "'{username}' is neither. Web users log in with their password.",
                       code="api_key_role", username=username)
    secret = new_api_key(session, user, name=name)
    key_id = session.scalar(select(func.max(ApiKey.id)).where(ApiKey.user_id == user.id))
    audit.record(session, actor, "apikey.create", f"user:{username}",
                 {"key_id": key_id, "name": name})
    return secret


def revoke_api_key(session: Session, actor: Actor, key_id: int) -> None:
    require(actor, MANAGE)
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("There is no API key {key_id}.", key_id=key_id)
    if key.id == actor.api_key_id:
        raise Conflict("You cannot revoke the API key you are using.")
    user = session.get(User, key.user_id)
    if user is not None:
        _require_scope(actor, user)
    key.revoked = True
    audit.record(session, actor, "apikey.revoke", f"apikey:{key_id}")


def list_api_keys(session: Session, actor: Actor, username: str) -> list[ApiKey]:
    require(actor, MANAGE)
    user = get_user(session, username)
    _require_scope(actor, user)
    return list(session.scalars(select(ApiKey).where(ApiKey.user_id == user.id)
                                .order_by(ApiKey.id)))


# --- audit log ----------------------------------------------------------------------------------

def audit_tail(session: Session, actor: Actor, limit: int = 20,
               before: int | None = None) -> list[AuditEntry]:
    """The newest ``limit`` audit entries (older than entry ``before``), newest first."""
    require(actor, "audit.read")
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(max(1, min(limit, 1001)))
    return list(session.scalars(q if before is None else q.where(AuditEntry.id < before)))


def audit_verify(session: Session, actor: Actor,
                 expect: tuple[int, str] | None = None) -> audit.VerifyResult:
    """Walk the hash chain and hold its end against the signed anchor; the result names the
    first edited, deleted or inserted entry, or what is wrong at the chain's end."""
    require(actor, "audit.read")
    return audit.verify(session, expect=expect)


def audit_anchor(session: Session, actor: Actor, key: bytes, reason: str) -> audit.AnchorResult:
    """Sign the audit chain's anchor anew for the chain as it is. ``audit.anchor`` is given to
    no role: only the system actor (the server's operator, at the command line, who holds the
    key) may."""
    require(actor, audit.ANCHOR_PERMISSION)
    return audit.reanchor(session, actor, key, reason)
