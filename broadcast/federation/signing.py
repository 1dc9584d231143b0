"""Signed requests between deployments: HMAC-SHA256 with a secret each pair of towns shares.

The signature covers the timestamp, the method, the path, the idempotency key
and the body, so none of them can be changed or moved to another request; the
timestamp bounds a captured request's useful life to `MAX_SKEW`, and the
receiver's record of idempotency keys refuses it within that window.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

PEER_HEADER = "X-ShopWatch-Peer"
TIMESTAMP_HEADER = "X-ShopWatch-Timestamp"
SIGNATURE_HEADER = "X-ShopWatch-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_SKEW = 300
"""Seconds a request's timestamp may differ from the receiver's clock (5 minutes)."""
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh shared secret (256 bits, URL-safe), for `shopwatch federation keygen`."""
    return secrets.token_urlsafe(SECRET_BYTES)


def signed_text(timestamp: str, method: str, path: str, *, key: str, body: bytes) -> bytes:
    return f"{timestamp}.{method.upper()}.{path}.{key}.".encode() + body


def signature(
    secret: str, timestamp: str, method: str, path: str, *, key: str, body: bytes
) -> str:
    message = signed_text(timestamp, method, path, key=key, body=body)
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(
    secret: str,
    our_slug: str,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    key: str = "",
    now: float | None = None,
) -> dict[str, str]:
    """The headers that make a request from `our_slug` verifiable by the peer."""
    timestamp = str(int(time.time() if now is None else now))
    headers = {
        PEER_HEADER: our_slug,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, method, path, key=key, body=body),
    }
    if key:
        headers[IDEMPOTENCY_HEADER] = key
    return headers


def check(
    secret: str,
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    *,
    now: float | None = None,
) -> str | None:
    """Why the request is not authentic ("unsigned", "bad signature", "stale"), or None."""
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    given = headers.get(SIGNATURE_HEADER, "")
    if not timestamp or not given:
        return "unsigned"
    key = headers.get(IDEMPOTENCY_HEADER, "")
    expected = signature(secret, timestamp, method, path, key=key, body=body)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return "bad signature"
    try:
        sent_at = int(timestamp)
    except ValueError:
        return "bad signature"
    if abs((time.time() if now is None else now) - sent_at) > MAX_SKEW:
        return "stale"
    return None
