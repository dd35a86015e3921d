"""Reading an ASGI request's body in a middleware — never more than a limit — and handing it on
to the app unchanged.

:class:`BodyTooLarge` is what a bounded ``receive`` raises once a body passes its limit. It is a
Starlette ``HTTPException`` (413) so that FastAPI lets it through its body parsing untouched; the
error handlers (``web/errors.py``) and :class:`citygrowth.web.limits.BodyLimitMiddleware` render
it in the one error shape, in the caller's language.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import Message, Receive

from citygrowth.errors import CityGrowthError


class TooLarge(CityGrowthError):
    status = 413
    code = "too_large"
    message = "The request is larger than {limit}, the most this address accepts."


def human_size(n: int) -> str:
    """``1048576`` → ``"1 MiB"``, ``65536`` → ``"64 KiB"``."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} B"


class BodyTooLarge(HTTPException):
    """A request body passed ``limit`` bytes (raised by a bounded ``receive``)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, headers={"Connection": "close"})
        self.limit = limit

    def error(self) -> TooLarge:
        return TooLarge(limit=human_size(self.limit))


async def read_body(receive: Receive, limit: int | None = None) -> tuple[bytes, bool]:
    """The whole request body; ``connected`` is False when the client went away. Raises
    :class:`BodyTooLarge` as soon as more than ``limit`` bytes arrived."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


async def read_head(receive: Receive, most: int,
                    enough: Callable[[bytes], bool]) -> tuple[bytes, bool, bool]:
    """The start of a body: chunks until ``enough(head)`` holds, ``most`` bytes have come or the
    body ends. Returns ``(head, more, connected)``; the rest (when ``more``) is still unread."""
    head = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return head, False, False
        head += message.get("body", b"")
        more = bool(message.get("more_body", False))
        if not more or len(head) >= most or enough(head):
            return head, more, True


def replay(body: bytes, receive: Receive, connected: bool, more: bool = False) -> Receive:
    """A ``receive`` that gives the app the body (or its head, when ``more``) already read,
    then carries on with the rest (or reports the disconnect that ended the reading)."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        if not connected:
            return {"type": "http.disconnect"}
        return await receive()

    return again
