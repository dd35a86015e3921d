"""From stored users and API keys to the :class:`Actor` services receive."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from citygrowth.auth.actor import Actor, Grant
from citygrowth.auth.models import ApiKey, User
from citygrowth.auth.permissions import PermissionTable
from citygrowth.db import utcnow

API_KEY_PREFIX = "cg_"
TOUCH_EVERY = dt.timedelta(minutes=1)  # a key's last use is recorded at most this often


def actor_for_user(user: User, api_key_id: int | None = None,
                   permissions: PermissionTable | None = None) -> Actor:
    """The actor ``user`` is; ``permissions`` is the runtime's role table (None: built-ins)."""
    return Actor(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name or user.username,
        grants=tuple(Grant(g.role, g.area_code, g.department_code) for g in user.grants),
        api_key_id=api_key_id,
        permissions=permissions,
        session_version=None if api_key_id is not None else user.session_version,
    )


def load_actor(session: Session, user_id: int, permissions: PermissionTable | None = None,
               session_version: int | None = None) -> Actor | None:
    """The active user ``user_id``; with ``session_version``, only while the user's sessions
    have not been ended since (logout, password change, deactivation)."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    if session_version is not None and user.session_version != session_version:
        return None
    return actor_for_user(user, permissions=permissions)


def _hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key(session: Session, user: User, name: str = "") -> str:
    """Create a key for ``user`` and return it in full; only its hash is kept."""
    prefix = secrets.token_hex(6)
    secret = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(24)}"
    session.add(ApiKey(prefix=prefix, key_hash=_hash_key(secret), user_id=user.id, name=name))
    session.flush()
    return secret


def actor_for_api_key(session: Session, secret: str,
                      permissions: PermissionTable | None = None) -> Actor | None:
    """The actor a presented API key stands for, or None when unknown or revoked."""
    if not secret.startswith(API_KEY_PREFIX) or secret.count("_") < 2:
        return None
    prefix = secret[len(API_KEY_PREFIX):].split("_", 1)[0]
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or key.revoked or not secrets.compare_digest(key.key_hash, _hash_key(secret)):
        return None
    user = session.get(User, key.user_id)
    if user is None or not user.active:
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        key.last_used_at = now  # not on every request: a read must not take a write lock
    return actor_for_user(user, api_key_id=key.id, permissions=permissions)
