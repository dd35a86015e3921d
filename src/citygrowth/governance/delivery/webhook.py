"""The webhook channel: the message as a JSON POST to the department's URL, signed.

Headers: ``X-Citygrowth-Event`` (``case.dispatched`` …), ``X-Citygrowth-Delivery`` (the send
record's id: the same on every retry, so a receiver drops duplicates),
``X-Citygrowth-Timestamp`` (Unix seconds) and ``X-Citygrowth-Signature:
sha256=<hex>``, the HMAC-SHA256 with the department's secret over ``<timestamp>.<body>``. The
timestamp is signed with the body, so a receiver that refuses timestamps older than a few
minutes cannot be fed a replayed request. Any 2xx answer is a delivery; anything else — another
status, a timeout, a refused connection — is a failed attempt, retried with back-off.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from citygrowth.governance.delivery.message import DeliveryFailed, Message
from citygrowth.governance.models import Case
from citygrowth.settings import Settings

SIGNATURE_HEADER = "X-Citygrowth-Signature"
TIMESTAMP_HEADER = "X-Citygrowth-Timestamp"
MAX_ERROR_BODY = 200


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 over ``<timestamp>.<body>`` with ``secret``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, given: str, *, now: float | None = None,
           tolerance: float = 300.0) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(signature(secret, timestamp, body), given)


def send(case: Case, *, message: Message, target: str, secret: str, settings: Settings,
         delivery_id: int, **_: Any) -> str:
    """POST the message to ``target``; returns the receipt (``HTTP 200``)."""
    body = json.dumps(message.body, ensure_ascii=False, separators=(",", ":")).encode()
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "citygrowth",
               "X-Citygrowth-Event": str(message.body.get("event", "")),
               "X-Citygrowth-Delivery": str(delivery_id), TIMESTAMP_HEADER: stamp,
               SIGNATURE_HEADER: signature(secret, stamp, body)}
    try:
        r = httpx.post(target, content=body, headers=headers,
                       timeout=settings.webhook_timeout_seconds, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
    if not 200 <= r.status_code < 300:
        raise DeliveryFailed(f"HTTP {r.status_code}: {r.text[:MAX_ERROR_BODY]}")
    return f"HTTP {r.status_code}"
