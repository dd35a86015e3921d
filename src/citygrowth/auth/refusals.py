"""Refused writes in the audit log, at a rate an attacker cannot raise.

A POST, PUT, PATCH or DELETE answered 401 or 403 (not logged in, not allowed, a bad API key, a
failed CSRF check) is written to the audit log as ``auth.refused`` with the method, path, error
code and client address — at most ``audit_refusals_per_minute`` entries a minute per web
process, and at most :data:`PER_ADDRESS` of them for one address. Refusals over those limits are
counted, and the count is written with the next entry (``suppressed``), so nothing goes unseen
and the table cannot be flooded.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from citygrowth.auth import audit
from citygrowth.auth.actor import ANONYMOUS, Actor
from citygrowth.logging_setup import get_logger

PER_ADDRESS = 10
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
log = get_logger(__name__)


class RefusalLog:
    """The per-process budget of refusal entries (one per app)."""

    def __init__(self, factory: sessionmaker[Session], per_minute: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.factory = factory
        self.per_minute = per_minute
        self.clock = clock
        self.lock = threading.Lock()
        self.minute = -1.0
        self.written: Counter[str] = Counter()
        self.suppressed = 0

    def admit(self, client: str) -> int | None:
        """None when this refusal is only counted; else the number suppressed before it."""
        with self.lock:
            minute = self.clock() // 60
            if minute != self.minute:
                self.minute, self.written = minute, Counter()
            if (self.written.total() >= self.per_minute
                    or self.written[client] >= PER_ADDRESS):
                self.suppressed += 1
                return None
            self.written[client] += 1
            suppressed, self.suppressed = self.suppressed, 0
            return suppressed

    def wanted(self, method: str, status: int) -> bool:
        """Is this answer a refused write that the log keeps?"""
        return method in WRITES and status in (401, 403) and self.per_minute > 0

    def write(self, actor: Actor | None, method: str, path: str, status: int, code: str,
              client: str, suppressed: int) -> None:
        """Write one refusal in a transaction of its own (call it off the event loop)."""
        try:
            with self.factory() as session:
                audit.record(session, actor if actor is not None else ANONYMOUS,
                             "auth.refused", f"{method} {path}"[:200],
                             {"status": status, "code": code, "client": client,
                              "suppressed": suppressed})
                session.commit()
        except Exception:  # the refusal is answered anyway; the store may be why
            log.warning("could not write a refusal to the audit log", exc_info=True)
