"""Reading an ASGI request's body in a middleware and handing it on to the app unchanged."""

from __future__ import annotations

from starlette.types import Message, Receive


async def read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole request body; ``connected`` is False when the client went away."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True


def replay(body: bytes, receive: Receive, connected: bool) -> Receive:
    """A ``receive`` that gives the app the body already read, then carries on (or reports
    the disconnect that ended the reading)."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if not connected:
            return {"type": "http.disconnect"}
        return await receive()

    return again
