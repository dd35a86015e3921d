"""Web sessions with a version kept on the server.

The signed session cookie (``citygrowth_session``) holds the user's id, the user's
``session_version`` when the session started and the time it started. A session is valid only
while

* the user is active and their ``session_version`` is still the one in the cookie — logout, a
  password change and deactivation raise it (:func:`end_sessions`), which ends every session of
  the user at once, a copied cookie included;
* it is younger than ``session_absolute_seconds`` (an absolute lifetime), and it was used within
  ``session_max_age_seconds`` (the cookie's own expiry, renewed on each use).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, MutableMapping
from typing import Any, NamedTuple

from citygrowth.auth.models import User

USER = "user_id"
VERSION = "sv"
STARTED = "iat"


class SessionUser(NamedTuple):
    """Who a session cookie stands for, before the store confirms it."""

    user_id: int
    version: int


def start_session(cookie: MutableMapping[str, Any], user_id: int, version: int,
                  now: float | None = None) -> None:
    """Put a fresh session in ``cookie`` (after clearing it: a login never keeps the old one)."""
    cookie.clear()
    cookie.update({USER: user_id, VERSION: version, STARTED: int(now or time.time())})


def session_user(cookie: Mapping[str, Any], absolute_seconds: int,
                 now: float | None = None) -> SessionUser | None:
    """The user of a session cookie, or None when it has none, is malformed or too old."""
    values = [cookie.get(k) for k in (USER, VERSION, STARTED)]
    whole = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    if len(whole) != 3:
        return None
    uid, version, started = whole
    if (now or time.time()) - started > absolute_seconds:
        return None
    return SessionUser(uid, version)


def end_sessions(user: User) -> int:
    """End every session of ``user`` (in the caller's transaction); returns the new version."""
    user.session_version = (user.session_version or 0) + 1
    return user.session_version
