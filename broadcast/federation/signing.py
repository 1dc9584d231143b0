"""Signed requests between deployments: a shared secret (HMAC-SHA256) or Ed25519 keys.

The signature covers the timestamp, the method, the path, the idempotency key
and the body, so none of them can be changed or moved to another request; the
timestamp bounds a captured request's useful life to `MAX_SKEW`, and the
receiver's record of idempotency keys refuses it within that window.

Both kinds sign the same text and travel in the same header, told apart by its
prefix (`sha256=` or `ed25519=`). With Ed25519 neither town holds anything that
lets it sign as the other: each keeps its private key and gives out its public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import SecretStr

from config.schemes import ed25519_key_bytes

PEER_HEADER = "X-ShopWatch-Peer"
TIMESTAMP_HEADER = "X-ShopWatch-Timestamp"
SIGNATURE_HEADER = "X-ShopWatch-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_SKEW = 300
"""Seconds a request's timestamp may differ from the receiver's clock (5 minutes)."""
SECRET_BYTES = 32
HMAC_PREFIX = "sha256="
ED25519_PREFIX = "ed25519="


class PeerKeys(Protocol):
    """What signs our requests to one peer and verifies the peer's requests to us."""

    @property
    def kind(self) -> str: ...

    def sign(self, message: bytes) -> str: ...

    def verify(self, message: bytes, given: str) -> bool: ...


@dataclass(frozen=True)
class SharedSecret:
    """HMAC-SHA256 with a secret both towns hold."""

    secret: SecretStr
    kind: ClassVar[str] = "shared secret"

    def sign(self, message: bytes) -> str:
        key = self.secret.get_secret_value().encode()
        return HMAC_PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()

    def verify(self, message: bytes, given: str) -> bool:
        return hmac.compare_digest(given.encode(), self.sign(message).encode())


@dataclass(frozen=True)
class Ed25519Keys:
    """Our private key signs what we send; the peer's public key checks what it sends."""

    ours: Ed25519PrivateKey = field(repr=False)
    theirs: Ed25519PublicKey = field(repr=False)
    kind: ClassVar[str] = "Ed25519 keys"

    def sign(self, message: bytes) -> str:
        return ED25519_PREFIX + base64.b64encode(self.ours.sign(message)).decode()

    def verify(self, message: bytes, given: str) -> bool:
        if not given.startswith(ED25519_PREFIX):
            return False
        try:
            raw = base64.b64decode(given.removeprefix(ED25519_PREFIX), validate=True)
            self.theirs.verify(raw, message)
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


def new_secret() -> str:
    """A fresh shared secret (256 bits, URL-safe), for `shopwatch federation keygen`."""
    return secrets.token_urlsafe(SECRET_BYTES)


def new_ed25519_key() -> str:
    """A fresh private key, base64 of its raw 32 bytes, for `keygen --ed25519`."""
    raw = Ed25519PrivateKey.generate().private_bytes_raw()
    return base64.b64encode(raw).decode()


def private_key(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(ed25519_key_bytes(text))


def public_key(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(ed25519_key_bytes(text))


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The public half, as a peer writes it in its `[[peer]]` entry's `public_key`."""
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def signed_text(timestamp: str, method: str, path: str, *, key: str, body: bytes) -> bytes:
    return f"{timestamp}.{method.upper()}.{path}.{key}.".encode() + body


def sign(
    keys: PeerKeys,
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
        SIGNATURE_HEADER: keys.sign(signed_text(timestamp, method, path, key=key, body=body)),
    }
    if key:
        headers[IDEMPOTENCY_HEADER] = key
    return headers


def check(
    keys: PeerKeys,
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
    if not keys.verify(signed_text(timestamp, method, path, key=key, body=body), given):
        return "bad signature"
    try:
        sent_at = int(timestamp)
    except ValueError:
        return "bad signature"
    if abs((time.time() if now is None else now) - sent_at) > MAX_SKEW:
        return "stale"
    return None
